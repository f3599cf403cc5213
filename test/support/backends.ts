/**
 * Real MongoDB-protocol and RabbitMQ servers for tests, found in this order:
 *   1. URLs from the environment (MONGO_CONN, RABBITMQ_CONN), as the service reads them; the harness cannot stop those, so tests
 *      that stop a server ask for `control` and skip this step;
 *   2. testcontainers (mongo:7, rabbitmq:3-management) when a Docker engine answers;
 *   3. server binaries started here on free ports in a temporary directory: RabbitMQ from Debian's rabbitmq-server and FerretDB
 *      (MongoDB wire protocol on SQLite), both installed by scripts/ci/install-backends.sh.
 * A binary found on the machine is used only when it reports the pinned version and starts; otherwise the harness runs the
 * installer (scripts/ci/install-backends.sh) and uses what it built. A backend still missing fails every test that needs it, by
 * name, with how to get one (test/support/requirements.ts): never a silent skip.
 *
 * Servers are started once per test process and shared by the test files (bun runs files in one process unless --isolate or
 * --parallel). Bun fires no exit hooks at the end of `bun test`, so a detached watchdog shell kills the local servers and removes
 * their directory once this process is gone, however it ends.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, mkdtempSync, openSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createConnection } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect as amqpConnect } from 'amqplib';
import { MongoClient } from 'mongodb';
import { freePort } from '../../src/platform/processes';
import { describeRequiring, unavailable, type Suite } from './requirements';
import { findTool, pathCandidates, pinnedVersion, runInstaller, toolsBin, type LocatedTool } from './tools';

export { REPO_ROOT } from './tools';
const INSTALL_HINT =
  'run `bash scripts/ci/install-backends.sh` (installs Debian\'s rabbitmq-server as root, or prints the command to run, and builds FerretDB into the tool cache)';

export type BackendName = 'mongodb' | 'rabbitmq';
export type BackendSource = 'env' | 'container' | 'local';

/** A running server. `stop`/`start` keep the same URL (same port, same data), so clients can reconnect to it. */
export interface ServerHandle {
  readonly name: BackendName;
  readonly source: BackendSource;
  /** What answers: 'ferretdb 1.24.2 (sqlite)', 'mongo:7', 'rabbitmq-server 3.10', 'MONGO_CONN'... */
  readonly flavour: string;
  readonly url: string;
  /** False for servers from the environment: the harness cannot stop them. */
  readonly controllable: boolean;
  /** Milliseconds the last start took until the server answered. */
  readonly lastStartMs: number;
  isRunning(): boolean;
  /** Stops the server: 'graceful' (SIGTERM / docker stop) or 'kill' (SIGKILL), and waits until it is gone. */
  stop(mode?: 'graceful' | 'kill'): Promise<void>;
  /** Starts it again on the same port and waits until it answers. */
  start(): Promise<void>;
  /** Freezes the server (SIGSTOP / docker pause): connections stay open but nothing answers, as behind a dead network. */
  pause(): Promise<void>;
  resume(): Promise<void>;
  /** Stops it for good and removes its data. */
  dispose(): Promise<void>;
}

export interface Backends {
  mongo: ServerHandle;
  rabbit: ServerHandle;
}

type Need = 'use' | 'control';
type Found = { ok: true; handle: ServerHandle } | { ok: false; reason: string };

// ---------------------------------------------------------------------------------------------------------------------
// Discovery

const cache = new Map<string, Promise<Found>>();

/** The MongoDB-protocol server for this test process (started on first use). */
export function findMongo(need: Need = 'use'): Promise<Found> {
  return find('mongodb', 'MONGO_CONN', need);
}

/** The RabbitMQ server for this test process (started on first use). */
export function findRabbit(need: Need = 'use'): Promise<Found> {
  return find('rabbitmq', 'RABBITMQ_CONN', need);
}

/** A server from the environment serves plain use; a server the harness owns serves both uses, started once per process. */
function find(name: BackendName, envName: string, need: Need): Promise<Found> {
  const fromEnv = process.env[envName]?.trim();
  if (fromEnv && need === 'use') return Promise.resolve({ ok: true, handle: envHandle(name, envName, fromEnv) });
  let found = cache.get(name);
  if (!found) {
    found = startOwned(name, envName, fromEnv !== undefined && fromEnv !== '');
    cache.set(name, found);
  }
  return found;
}

async function startOwned(name: BackendName, envName: string, envWasSet: boolean): Promise<Found> {
  const reasons: string[] = [];
  if (envWasSet) reasons.push(`${envName} is set, but a server from the environment cannot be stopped by the tests`);
  const runtime = await containerRuntime();
  if (runtime.ok) {
    try {
      return { ok: true, handle: await (name === 'mongodb' ? startMongoContainer() : startRabbitContainer()) };
    } catch (err) {
      reasons.push(`testcontainers: ${(err as Error).message}`);
    }
  } else reasons.push(`testcontainers: ${runtime.reason}`);
  try {
    return { ok: true, handle: await (name === 'mongodb' ? startLocalFerret() : startLocalRabbit()) };
  } catch (err) {
    reasons.push(`local binary: ${(err as Error).message}`);
  }
  return { ok: false, reason: `no ${name} server: ${reasons.join('; ')}. To get one: set ${envName}, start a Docker engine, or ${INSTALL_HINT}` };
}

/**
 * Registers `body` under `describe(name)` with the servers it needs. Missing servers: every test of the body fails with the
 * reason and the fix, and its hooks do not run. Call it at the top level of a test file with `await`.
 */
export async function describeWithBackends(
  name: string,
  needs: { mongo?: Need; rabbit?: Need; /** Other requirements: each a reason it is missing, or undefined. */ also?: (string | undefined)[] },
  body: (backends: Partial<Backends>, suite: Suite) => void,
): Promise<void> {
  const [mongo, rabbit] = await Promise.all([
    needs.mongo ? findMongo(needs.mongo) : undefined,
    needs.rabbit ? findRabbit(needs.rabbit) : undefined,
  ]);
  const missing = [...[mongo, rabbit].flatMap((f) => (f && !f.ok ? [f.reason] : [])), ...(needs.also ?? []).filter((r): r is string => r !== undefined)];
  if (missing.length > 0) {
    const reason = missing.join('\n');
    const absent = unavailable<ServerHandle>(reason);
    describeRequiring(name, reason, (suite) => body({ mongo: needs.mongo && absent, rabbit: needs.rabbit && absent }, suite));
    return;
  }
  const backends: Partial<Backends> = {};
  if (mongo?.ok) backends.mongo = mongo.handle;
  if (rabbit?.ok) backends.rabbit = rabbit.handle;
  describeRequiring(name, undefined, (suite) => {
    // A test that stopped or paused a server and failed before restoring it must not take the next file down with it.
    suite.afterAll(async () => {
      for (const handle of [backends.mongo, backends.rabbit]) {
        if (!handle?.controllable) continue;
        await handle.resume().catch(() => undefined);
        if (!handle.isRunning()) await handle.start();
      }
    }, 120_000);
    body(backends, suite);
  });
}

/** Stops every server this process started (tests may call it; the watchdog does it anyway when the process ends). */
export async function disposeAll(): Promise<void> {
  const all = [...cache.values()];
  cache.clear();
  for (const found of await Promise.all(all)) if (found.ok && found.handle.controllable) await found.handle.dispose();
}

// ---------------------------------------------------------------------------------------------------------------------
// Environment URLs

function envHandle(name: BackendName, envName: string, url: string): ServerHandle {
  const refuse = async () => {
    throw new Error(`${name} comes from ${envName}; the tests cannot stop or start it`);
  };
  return {
    name,
    source: 'env',
    flavour: envName,
    url,
    controllable: false,
    lastStartMs: 0,
    isRunning: () => true,
    stop: refuse,
    start: refuse,
    pause: refuse,
    resume: refuse,
    dispose: async () => undefined,
  };
}

// ---------------------------------------------------------------------------------------------------------------------
// Containers

/** Docker is looked for only where a socket or DOCKER_HOST says one may be, so a machine without one pays nothing. */
async function containerRuntime(): Promise<{ ok: true } | { ok: false; reason: string }> {
  if (process.env.TEST_BACKENDS === 'local') return { ok: false, reason: 'TEST_BACKENDS=local' };
  const sockets = ['/var/run/docker.sock', join(process.env.HOME ?? '/root', '.docker', 'run', 'docker.sock')];
  if (!process.env.DOCKER_HOST && !sockets.some((s) => existsSync(s))) return { ok: false, reason: 'no Docker engine (no socket, no DOCKER_HOST)' };
  try {
    const { getContainerRuntimeClient } = await import('testcontainers');
    await withTimeout(getContainerRuntimeClient(), 5_000, 'the Docker engine did not answer within 5 s');
    return { ok: true };
  } catch (err) {
    return { ok: false, reason: (err as Error).message };
  }
}

/** Fixed host ports, so a container stopped and started again by a fault test keeps its URL. */
async function startMongoContainer(): Promise<ServerHandle> {
  const { MongoDBContainer } = await import('@testcontainers/mongodb');
  const port = await freePort();
  const t0 = performance.now();
  const container = await new MongoDBContainer('mongo:7').withExposedPorts({ container: 27017, host: port }).start();
  // mongo:7 runs as a one-member replica set whose member name is the container's; connect to it directly.
  const url = `mongodb://${container.getHost()}:${port}/?directConnection=true`;
  return containerHandle('mongodb', 'mongo:7', url, container.getId(), () => container.stop(), () => pingMongo(url), performance.now() - t0);
}

async function startRabbitContainer(): Promise<ServerHandle> {
  const { RabbitMQContainer } = await import('@testcontainers/rabbitmq');
  const port = await freePort();
  const t0 = performance.now();
  const container = await new RabbitMQContainer('rabbitmq:3-management').withExposedPorts({ container: 5672, host: port }).start();
  const url = `amqp://guest:guest@${container.getHost()}:${port}`;
  return containerHandle('rabbitmq', 'rabbitmq:3-management', url, container.getId(), () => container.stop(), () => pingRabbit(url), performance.now() - t0);
}

function containerHandle(
  name: BackendName,
  flavour: string,
  url: string,
  id: string,
  remove: () => Promise<unknown>,
  answers: () => Promise<void>,
  startMs: number,
): ServerHandle {
  let running = true;
  let lastStartMs = startMs;
  const runtime = async () => {
    const { getContainerRuntimeClient } = await import('testcontainers');
    const client = await getContainerRuntimeClient();
    return { client, container: client.container.getById(id) };
  };
  return {
    name,
    source: 'container',
    flavour,
    url,
    controllable: true,
    get lastStartMs() {
      return lastStartMs;
    },
    isRunning: () => running,
    async stop(mode = 'graceful') {
      const { client, container } = await runtime();
      if (mode === 'kill') await container.kill({ signal: 'SIGKILL' });
      else await client.container.stop(container, { timeout: 10 });
      running = false;
    },
    async start() {
      const t0 = performance.now();
      const { client, container } = await runtime();
      await client.container.start(container);
      await waitUntil(answers, 60_000, `${flavour} did not answer after a restart`);
      running = true;
      lastStartMs = performance.now() - t0;
    },
    async pause() {
      const { container } = await runtime();
      await container.pause();
    },
    async resume() {
      const { container } = await runtime();
      await container.unpause();
    },
    async dispose() {
      running = false;
      await remove().catch(() => undefined);
    },
  };
}

// ---------------------------------------------------------------------------------------------------------------------
// Local binaries

let workDir: string | undefined;

/** One temporary directory per test process, watched by a shell that cleans up after this process whatever way it exits. */
function sharedWorkDir(): string {
  if (workDir) return workDir;
  workDir = mkdtempSync(join(tmpdir(), 'greeting-mesh-backends-'));
  mkdirSync(join(workDir, 'pids'));
  const script = [
    `while kill -0 ${process.pid} 2>/dev/null; do sleep 1; done`,
    `for f in "$1"/pids/*; do [ -f "$f" ] && kill -KILL -- "-$(cat "$f")" 2>/dev/null; done`,
    'sleep 1',
    'rm -rf "$1"',
  ].join('\n');
  // bash, not sh: dash's kill cannot signal a process group.
  const watchdog = spawn('bash', ['-c', script, 'watchdog', workDir], { detached: true, stdio: 'ignore' });
  watchdog.unref();
  return workDir;
}

/** FerretDB at the pinned version: FERRETDB_BIN, the tool cache (the installer's target), or PATH. */
export function ferretdbBinary(): LocatedTool {
  const version = pinnedVersion('FERRETDB_VERSION');
  return findTool('ferretdb', [process.env.FERRETDB_BIN, join(toolsBin(), 'ferretdb'), ...pathCandidates('ferretdb')], { versionArgs: ['--version'], version });
}

/** The RabbitMQ start script that runs as the calling user (Debian's /usr/sbin wrapper would switch to the rabbitmq user). */
export function rabbitmqServerBinary(): string | undefined {
  const candidates = [process.env.RABBITMQ_SERVER_BIN, '/usr/lib/rabbitmq/bin/rabbitmq-server', ...pathCandidates('rabbitmq-server')];
  return candidates.find((c): c is string => !!c && existsSync(c));
}

/**
 * Starts `start(binary)` with the first binary `find` gives; when there is none, or it fails to start, runs the installer
 * once and tries what it installed. The error says what was tried.
 */
async function withInstalledBinary(
  what: string,
  find: () => LocatedTool,
  start: (binary: string) => Promise<ServerHandle>,
): Promise<ServerHandle> {
  const tried: string[] = [];
  for (const attempt of ['found', 'installed'] as const) {
    if (attempt === 'installed') {
      const installed = runInstaller('install-backends.sh');
      if (!installed.ok) tried.push(`the installer failed: ${installed.output}`);
    }
    const found = find();
    if (!found.ok) {
      tried.push(found.reason);
      continue;
    }
    try {
      return await start(found.path);
    } catch (err) {
      tried.push(`${found.path} did not start: ${(err as Error).message}`);
    }
  }
  throw new Error(`${what}: ${tried.join('; ')}`);
}

function startLocalFerret(): Promise<ServerHandle> {
  return withInstalledBinary('ferretdb', ferretdbBinary, startFerret);
}

async function startFerret(binary: string): Promise<ServerHandle> {
  const dir = join(sharedWorkDir(), `ferretdb-${Date.now()}`);
  mkdirSync(join(dir, 'data'), { recursive: true });
  mkdirSync(join(dir, 'state'));
  const port = await freePort();
  const url = `mongodb://127.0.0.1:${port}/`;
  const args = [
    '--handler=sqlite',
    `--sqlite-url=file:${join(dir, 'data')}/`,
    `--listen-addr=127.0.0.1:${port}`,
    `--state-dir=${join(dir, 'state')}`,
    '--debug-addr=-',
    '--telemetry=disable',
    '--log-level=error',
  ];
  return localHandle({
    name: 'mongodb',
    flavour: `ferretdb ${versionOf(binary, ['--version'])} (sqlite)`,
    url,
    dir,
    port,
    launch: () => spawnLogged(binary, args, {}, join(dir, 'ferretdb.log')),
    answers: () => pingMongo(url),
    startTimeoutMs: 30_000,
  });
}

function startLocalRabbit(): Promise<ServerHandle> {
  const find = (): LocatedTool => {
    const path = rabbitmqServerBinary();
    return path ? { ok: true, path } : { ok: false, reason: 'rabbitmq-server not found (RABBITMQ_SERVER_BIN, /usr/lib/rabbitmq/bin, PATH)' };
  };
  return withInstalledBinary('rabbitmq-server', find, startRabbit);
}

async function startRabbit(binary: string): Promise<ServerHandle> {
  const dir = join(sharedWorkDir(), `rabbitmq-${Date.now()}`);
  for (const sub of ['mnesia', 'log', 'home']) mkdirSync(join(dir, sub), { recursive: true });
  writeFileSync(join(dir, 'enabled_plugins'), '[].\n');
  // Small limits: several private brokers may share a 2-core CI machine with everything else.
  writeFileSync(join(dir, 'rabbitmq.conf'), ['disk_free_limit.absolute = 50MB', 'log.console = false', 'log.file.level = warning', ''].join('\n'));
  const [port, distPort] = await Promise.all([freePort(), freePort()]);
  const node = `gm${process.pid}x${port}@localhost`;
  const env = {
    // The Erlang cookie lives in HOME; a private HOME keeps this broker away from any other on the machine.
    HOME: join(dir, 'home'),
    RABBITMQ_NODE_PORT: String(port),
    RABBITMQ_NODE_IP_ADDRESS: '127.0.0.1',
    RABBITMQ_DIST_PORT: String(distPort),
    RABBITMQ_NODENAME: node,
    RABBITMQ_MNESIA_BASE: join(dir, 'mnesia'),
    RABBITMQ_LOG_BASE: join(dir, 'log'),
    RABBITMQ_PID_FILE: join(dir, 'rabbitmq.pid'),
    RABBITMQ_ENABLED_PLUGINS_FILE: join(dir, 'enabled_plugins'),
    RABBITMQ_CONFIG_FILE: join(dir, 'rabbitmq.conf'),
  };
  const url = `amqp://guest:guest@127.0.0.1:${port}`;
  return localHandle({
    name: 'rabbitmq',
    flavour: `rabbitmq-server ${debianVersion('rabbitmq-server') ?? ''}`.trim(),
    url,
    dir,
    port,
    launch: () => spawnLogged(binary, [], env, join(dir, 'rabbitmq-server.log')),
    answers: () => pingRabbit(url),
    startTimeoutMs: 90_000,
  });
}

interface LocalSpec {
  name: BackendName;
  flavour: string;
  url: string;
  dir: string;
  port: number;
  launch: () => ChildProcess;
  answers: () => Promise<void>;
  startTimeoutMs: number;
}

async function localHandle(spec: LocalSpec): Promise<ServerHandle> {
  let child: ChildProcess | undefined;
  let running = false;
  let lastStartMs = 0;
  const pidFile = join(sharedWorkDir(), 'pids', `${spec.name}-${spec.port}`);
  const exited = (c: ChildProcess) => c.exitCode !== null || c.signalCode !== null;

  const start = async () => {
    if (running) return;
    const t0 = performance.now();
    const launched = spec.launch();
    child = launched;
    // Detached: the server and its helpers (beam, erl_child_setup...) share one process group that stop() signals as a whole.
    writeFileSync(pidFile, String(launched.pid));
    try {
      await waitUntil(
        async () => {
          if (exited(launched)) throw new FatalStart(`${spec.flavour} exited with ${launched.exitCode ?? launched.signalCode}: ${tail(spec.dir)}`);
          await spec.answers();
        },
        spec.startTimeoutMs,
        () => `${spec.flavour} did not answer on port ${spec.port} within ${spec.startTimeoutMs / 1000} s: ${tail(spec.dir)}`,
      );
    } catch (err) {
      await stop('kill');
      throw err;
    }
    lastStartMs = performance.now() - t0;
    running = true;
  };

  const stop = async (mode: 'graceful' | 'kill' = 'graceful') => {
    const group = child?.pid;
    running = false;
    if (!group) return;
    signalGroup(group, mode === 'kill' ? 'SIGKILL' : 'SIGTERM');
    // A paused server handles SIGTERM only once it runs again.
    signalGroup(group, 'SIGCONT');
    // The launcher script may exit before the VM it started: wait for the whole group, not just the child we spawned.
    try {
      await waitUntil(async () => groupGone(group), 15_000, `${spec.flavour} did not stop within 15 s`);
    } catch {
      signalGroup(group, 'SIGKILL');
      await waitUntil(async () => groupGone(group), 5_000, `${spec.flavour} survived SIGKILL`);
    }
    await waitUntil(async () => portClosed(spec.port), 15_000, `${spec.flavour} still listens on ${spec.port} after stopping`);
    rmSync(pidFile, { force: true });
  };

  await start();
  return {
    name: spec.name,
    source: 'local',
    flavour: spec.flavour,
    url: spec.url,
    controllable: true,
    get lastStartMs() {
      return lastStartMs;
    },
    isRunning: () => running,
    stop,
    start,
    async pause() {
      const group = child?.pid;
      if (!group) return;
      signalGroup(group, 'SIGSTOP');
      // The signal takes effect when each thread next leaves the kernel (an fsync can delay that): wait until all have stopped.
      await waitUntil(async () => groupStopped(group), 5_000, `${spec.flavour} did not freeze`);
    },
    async resume() {
      if (child?.pid) signalGroup(child.pid, 'SIGCONT');
    },
    async dispose() {
      await stop('kill');
      rmSync(spec.dir, { recursive: true, force: true });
    },
  };
}

class FatalStart extends Error {}

function signalGroup(group: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-group, signal);
  } catch {
    // Already gone.
  }
}

/** Resolves once no live process is left in the group (zombies waiting for a slow reaper do not count). */
async function groupGone(group: number): Promise<void> {
  const alive = groupStates(group).filter((state) => state !== 'Z');
  if (alive.length > 0) throw new Error(`${alive.length} processes of group ${group} are still running`);
}

/** Resolves once every live process of the group is stopped by a signal (state T). */
async function groupStopped(group: number): Promise<void> {
  const running = groupStates(group).filter((state) => state !== 'Z' && state !== 'T' && state !== 't');
  if (running.length > 0) throw new Error(`${running.length} processes of group ${group} are not stopped yet`);
}

/** The scheduler state (R, S, D, T, Z...) of every process in a process group, from /proc. */
function groupStates(group: number): string[] {
  const states: string[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    let stat: string;
    try {
      stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
    } catch {
      continue;
    }
    // Fields after the parenthesised command name: state, ppid, pgrp, ...
    const [state, , pgrp] = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    if (Number(pgrp) === group && state) states.push(state);
  }
  return states;
}

function spawnLogged(command: string, args: string[], env: Record<string, string>, logFile: string): ChildProcess {
  const fd = openSync(logFile, 'a');
  const child = spawn(command, args, { env: { ...process.env, ...env }, detached: true, stdio: ['ignore', fd, fd] });
  closeSync(fd);
  child.unref();
  return child;
}

function tail(dir: string): string {
  for (const file of ['rabbitmq-server.log', 'ferretdb.log']) {
    const path = join(dir, file);
    if (existsSync(path)) return readFileSync(path, 'utf8').trim().split('\n').slice(-15).join('\n');
  }
  return '(no log)';
}

function versionOf(binary: string, args: string[]): string {
  const out = spawnSync(binary, args, { encoding: 'utf8', timeout: 5_000 });
  return /v?\d+\.\d+\.\d+/.exec(`${out.stdout}${out.stderr}`)?.[0] ?? 'unknown version';
}

function debianVersion(pkg: string): string | undefined {
  const out = spawnSync('dpkg-query', ['-W', '-f=${Version}', pkg], { encoding: 'utf8', timeout: 5_000 });
  return out.status === 0 ? out.stdout.trim() : undefined;
}

// ---------------------------------------------------------------------------------------------------------------------
// Probes

export async function pingMongo(url: string): Promise<void> {
  const client = new MongoClient(url, { serverSelectionTimeoutMS: 1_000, connectTimeoutMS: 1_000 });
  try {
    await client.db('admin').command({ ping: 1 });
  } finally {
    await client.close().catch(() => undefined);
  }
}

export async function pingRabbit(url: string): Promise<void> {
  const connection = await amqpConnect(url, { timeout: 1_000 });
  connection.on('error', () => undefined);
  await connection.close();
}

/** Servers restart on the same port, so it must come from below the ephemeral range (see freePort in processes.ts). */
export { freePort };

function portClosed(port: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const socket = createConnection({ host: '127.0.0.1', port });
    socket.once('connect', () => {
      socket.destroy();
      reject(new Error(`port ${port} still open`));
    });
    socket.once('error', () => resolve());
  });
}

/** Retries `probe` every 100 ms until it resolves; a FatalStart ends the wait at once. */
export async function waitUntil(probe: () => Promise<unknown>, timeoutMs: number, message: string | (() => string)): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      await probe();
      return;
    } catch (err) {
      if (err instanceof FatalStart) throw err;
      if (Date.now() > deadline) throw new Error(`${typeof message === 'string' ? message : message()} (last: ${(err as Error).message})`);
    }
    await Bun.sleep(100);
  }
}

function withTimeout<T>(promise: Promise<T>, ms: number, message: string): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(message)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}
