/**
 * The platform as one OS process per role: what the cluster runs, on localhost. Used when real MongoDB/RabbitMQ URLs are
 * given (the queue then joins processes), by the end-to-end tests, and by the benchmark. Every role gets the env a pod would
 * get: ROLE, PORT, and SERVICE_<X>_URL for each upstream. With `versions`, each extra version of a role is a process of its
 * own too (SERVICE_VERSION, its own port); callers call the default versions, as routing between versions is the mesh's.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';
import { VARIABLES } from '../config/env';
import { deploymentName, edgeTransport, localGrpcPort, roleVersions, servesGrpc, upstreamEnvName, versionFacts } from '../config/facts';
import type { PlatformConfig, Transport } from '../config/schema';
import { StartupConfigError } from '../serving/start-errors';
import { upstreamsFirst } from './topology-order';

export interface RoleProcess {
  id: string;
  /** Set for an extra version; the default version's process has none. */
  version?: string;
  port: number;
  child: ChildProcess;
  /** Resolves with the exit code (or the signal's name) when the process ends. */
  exited: Promise<number | string>;
}

export interface ProcessPlatformOptions {
  /** argv that runs the service: the compiled binary, or a runtime plus `src/service.ts`. */
  command: string[];
  /** Extra env for every role (MONGO_CONN, RABBITMQ_CONN, LOG_LEVEL, ...). */
  env?: Record<string, string>;
  /** Extra env for one role. */
  roleEnv?: Record<string, Record<string, string>>;
  /** Take each role's config port instead of free ones. */
  configPorts?: boolean;
  /** Where role output goes: inherited (a person watches) or collected (tests read it). */
  stdio?: 'inherit' | 'pipe';
  /**
   * Start each role in a process group of its own. A terminal's Ctrl-C signals the whole foreground group: without this every
   * role would get SIGINT from the terminal and then the platform's SIGTERM, which a role takes as a second, forcing signal.
   */
  ownProcessGroups?: boolean;
  /** Called when a role ends on its own (not through stop()). */
  onUnexpectedExit?: (id: string, how: number | string) => void;
  /** Every hop over this transport, whatever the config says (`npm start -- --transport grpc`). */
  transport?: Transport;
  /** Also run every extra version of each role, each a process on its own port (`npm start -- --processes` does). */
  versions?: boolean;
}

/** What the local platform adds to a port for its gRPC twin when none is configured (facts.ts, localGrpcPort). */
const GRPC_TWIN_OFFSET = 10_000;
/** Ports this process has handed out: a port stays free until its taker binds it, so two picks must never return one twice. */
const handedOut = new Set<number>();

/**
 * A port that is free now, with its gRPC twin (port + 10000, what the local platform derives for a version, or a role without
 * a grpcPort) free too, both below the kernel's ephemeral range (32768 and up on Linux): a role that is killed and restarted
 * gets its port back, which an ephemeral port could meanwhile have become the local end of some outgoing connection. Never
 * one this process has already handed out.
 */
export async function freePort(): Promise<number> {
  for (;;) {
    const candidate = 10_000 + Math.floor(Math.random() * (32_768 - GRPC_TWIN_OFFSET - 10_000));
    const twin = candidate + GRPC_TWIN_OFFSET;
    if (handedOut.has(candidate) || handedOut.has(twin)) continue;
    // Held while it is tried, so that calls made together (a Promise.all of them) never hand out one port twice.
    handedOut.add(candidate).add(twin);
    if ((await canListen(candidate)) && (await canListen(twin))) return candidate;
    handedOut.delete(candidate);
    handedOut.delete(twin);
  }
}

function canListen(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once('error', () => resolve(false));
    server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)));
  });
}

export class ProcessPlatform {
  readonly roles = new Map<string, RoleProcess>();
  /** The extra versions' processes, by their Deployment's name (`service-h-v2`). */
  readonly versions = new Map<string, RoleProcess>();
  readonly ports = new Map<string, number>();
  /** The gRPC port of each role some caller calls over gRPC. */
  readonly grpcPorts = new Map<string, number>();
  readonly output = new Map<string, string[]>();
  private stopping = new Set<string>();

  constructor(
    readonly config: PlatformConfig,
    private readonly options: ProcessPlatformOptions,
  ) {}

  url(id: string): string {
    return `http://127.0.0.1:${this.ports.get(id)}`;
  }

  /** Where one version of a role answers; the default version's is url(id). */
  versionUrl(id: string, version: string): string {
    const extra = this.versions.get(deploymentName(id, version));
    return extra ? `http://127.0.0.1:${extra.port}` : this.url(id);
  }

  /**
   * Starts every role and waits until each one is ready (or only live: serving, its data plane maybe not yet connected). A
   * taken port or a role that exits while starting fails the start at once, naming the role; the caller stops the rest.
   */
  async start(timeoutMs = 15_000, until: 'ready' | 'live' = 'ready'): Promise<void> {
    const take = async (id: string, configured: number) => {
      const port = this.options.configPorts ? configured : await freePort();
      if (this.options.configPorts && !(await canListen(port)))
        throw new StartupConfigError(`port ${port} of role ${id} (${this.config.services[id]!.name}) is already in use: is another \`npm start\` running? Stop it first`);
      return port;
    };
    for (const id of Object.keys(this.config.services)) {
      this.ports.set(id, await take(id, this.config.services[id]!.port));
      if (servesGrpc(this.config, id, this.options.transport)) this.grpcPorts.set(id, await take(id, localGrpcPort(this.config, id)));
    }
    const extra: { id: string; version: string; port: number; grpcPort?: number }[] = [];
    if (this.options.versions)
      for (const id of Object.keys(this.config.services))
        for (const version of roleVersions(this.config, id).slice(1)) {
          const port = await take(id, versionFacts(this.config, id, version).port);
          const grpcPort = servesGrpc(this.config, id, this.options.transport) ? await take(id, localGrpcPort(this.config, id, version)) : undefined;
          extra.push({ id, version, port, grpcPort });
        }
    for (const id of upstreamsFirst(this.config)) this.spawnRole(id);
    for (const v of extra) this.spawnVersion(v.id, v.version, v.port, v.grpcPort);
    await Promise.all([
      ...[...this.roles.keys()].map((id) => this.waitFor(id, until, timeoutMs)),
      ...[...this.versions.keys()].map((key) => this.waitFor(key, until, timeoutMs)),
    ]);
  }

  /** The env a pod of this role gets from its manifest, with cluster DNS names replaced by localhost ports. */
  envFor(id: string): Record<string, string> {
    const env: Record<string, string> = { [VARIABLES.role.name]: id, [VARIABLES.port.name]: String(this.ports.get(id)), ...this.options.env };
    const grpcPort = this.grpcPorts.get(id);
    if (grpcPort !== undefined) env[VARIABLES.grpcPort.name] = String(grpcPort);
    for (const up of this.config.services[id]!.upstreams)
      env[upstreamEnvName(up)] =
        edgeTransport(this.config, id, up, this.options.transport) === 'grpc' ? `grpc://127.0.0.1:${this.grpcPorts.get(up)}` : this.url(up);
    return { ...env, ...this.options.roleEnv?.[id] };
  }

  spawnRole(id: string): RoleProcess {
    const role = this.spawnProcess(id, id, this.envFor(id), this.ports.get(id)!);
    this.roles.set(id, role);
    return role;
  }

  /** An extra version: its role's env, with its own version and ports. */
  private spawnVersion(id: string, version: string, port: number, grpcPort?: number): RoleProcess {
    const env: Record<string, string> = { ...this.envFor(id), [VARIABLES.version.name]: version, [VARIABLES.port.name]: String(port) };
    if (grpcPort !== undefined) env[VARIABLES.grpcPort.name] = String(grpcPort);
    const key = deploymentName(id, version);
    const role = { ...this.spawnProcess(key, id, env, port), version };
    this.versions.set(key, role);
    return role;
  }

  /** `key`: the role id, or an extra version's Deployment name; what output, stops and waits are kept under. */
  private spawnProcess(key: string, id: string, roleEnv: Record<string, string>, port: number): RoleProcess {
    const [cmd, ...args] = this.options.command;
    const child = spawn(cmd!, args, {
      env: { ...process.env, ...roleEnv },
      stdio: this.options.stdio === 'inherit' ? 'inherit' : ['ignore', 'pipe', 'pipe'],
      detached: this.options.ownProcessGroups ?? false,
    });
    const lines: string[] = [];
    this.output.set(key, lines);
    for (const stream of [child.stdout, child.stderr]) {
      if (!stream) continue;
      // A pipe's chunks end anywhere, within a line or a character: decoded as a stream, a line's start kept until its end.
      stream.setEncoding('utf8');
      let partial = '';
      stream.on('data', (chunk: string) => {
        const parts = (partial + chunk).split('\n');
        partial = parts.pop()!;
        lines.push(...parts.filter(Boolean));
      });
      stream.once('end', () => partial && lines.push(partial));
    }
    const exited = new Promise<number | string>((resolve) => {
      const ended = (how: number | string) => {
        if (!this.stopping.has(key)) this.options.onUnexpectedExit?.(key, how);
        resolve(how);
      };
      child.once('exit', (code, signal) => ended(code ?? signal ?? 'unknown'));
      // A command that cannot be spawned (no such file) emits 'error' and never 'exit'.
      child.once('error', (err) => {
        lines.push(`cannot run ${cmd}: ${(err as NodeJS.ErrnoException).code ?? err.message}`);
        ended((err as NodeJS.ErrnoException).code ?? 'spawn failed');
      });
    });
    return { id, port, child, exited };
  }

  waitReady(id: string, timeoutMs = 15_000): Promise<void> {
    return this.waitFor(id, 'ready', timeoutMs);
  }

  /**
   * Polls the role's readiness (or liveness) probe; a role that exits meanwhile fails the wait at once, with its last words.
   * `id`: a role id, or an extra version's Deployment name.
   */
  async waitFor(id: string, until: 'ready' | 'live', timeoutMs = 15_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    const role = this.roles.get(id) ?? this.versions.get(id)!;
    const base = `http://127.0.0.1:${role.port}`;
    let exit: number | string | undefined;
    void role.exited.then((how) => (exit = how));
    const probe = until === 'ready' ? '/api/ready' : '/api/health';
    while (Date.now() < deadline && exit === undefined) {
      try {
        const response = await fetch(`${base}${probe}`, { signal: AbortSignal.timeout(1000) });
        if (response.status === 200) return;
      } catch {
        // not listening yet
      }
      await new Promise((r) => setTimeout(r, 25));
    }
    const said = (this.output.get(id) ?? []).slice(-10);
    if (exit !== undefined) {
      const last = said.at(-1) ?? 'see its output above';
      throw new Error(`role ${id} exited while starting (${typeof exit === 'number' ? `exit ${exit}` : exit}); its last line: ${last}`);
    }
    throw new Error(`role ${id} was not ${until} within ${timeoutMs} ms\n${said.join('\n')}`);
  }

  /** Sends a signal to one role and waits for it to end. */
  async kill(id: string, signal: NodeJS.Signals = 'SIGKILL'): Promise<number | string> {
    const role = this.roles.get(id)!;
    this.stopping.add(id);
    role.child.kill(signal);
    const how = await role.exited;
    this.stopping.delete(id);
    return how;
  }

  async restart(id: string, timeoutMs = 15_000): Promise<void> {
    this.spawnRole(id);
    await this.waitReady(id, timeoutMs);
  }

  /** SIGTERM to every role (and extra version) at once; resolves with each one's exit code or signal. */
  async stop(): Promise<Map<string, number | string>> {
    const results = new Map<string, number | string>();
    const all = [...this.roles, ...this.versions];
    for (const [key] of all) this.stopping.add(key);
    for (const [, role] of all) if (role.child.exitCode === null && role.child.signalCode === null) role.child.kill('SIGTERM');
    await Promise.all(all.map(async ([key, r]) => results.set(key, await r.exited)));
    return results;
  }
}
