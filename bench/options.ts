/**
 * The bench's command line. List options (`--artifact binary,node --tracing off,on`) multiply into scenarios of the bench's own
 * platform; `--target` adds systems the bench did not start (or a bare Bun chain it builds), so two builds or two
 * implementations compare in one invocation, on the same machine state, in alternating rounds.
 */
import { parseArgs } from 'node:util';

export const ARTIFACTS = ['binary', 'source', 'node'] as const;
export const BACKENDS = ['memory', 'url', 'local'] as const;
export const TRACING = ['off', 'on'] as const;
export const TRANSPORTS = ['http', 'grpc'] as const;

export type Artifact = (typeof ARTIFACTS)[number];
export type Backends = (typeof BACKENDS)[number];
export type Tracing = (typeof TRACING)[number];
export type TransportName = (typeof TRANSPORTS)[number];

/** The bench's own platform: eight processes it starts. */
export interface PlatformScenario {
  kind: 'platform';
  artifact: Artifact;
  backends: Backends;
  tracing: Tracing;
  /** Every hop between roles over this transport (the edge is asked over HTTP either way). */
  transport: TransportName;
}

/** A process whose CPU and memory a target's figures include, from /proc. */
export interface TargetProcess {
  name: string;
  pid: number;
}

/** An edge already running, started by someone else: only its HTTP API is known, and the PIDs the user named. */
export interface TargetScenario {
  kind: 'target';
  name: string;
  /** Base URL of the edge (`http://127.0.0.1:8080`). */
  url: string;
  /** The PIDs given, or `auto`: the processes listening on the config's role ports on this machine, found at set-up. */
  processes: TargetProcess[] | 'auto';
}

/** The floor: the same topology and API as a chain of bare compiled `Bun.serve` + `fetch` processes, built in the run. */
export interface BareScenario {
  kind: 'bare';
}

export type Scenario = PlatformScenario | TargetScenario | BareScenario;

export interface BenchOptions {
  concurrency: number;
  durationS: number;
  warmupS: number;
  /** Further warm-up allowed, in steps, while the JIT still compiles. */
  maxExtraWarmupS: number;
  /** 0 skips the ceiling run. */
  ceilingDurationS: number;
  /** Exec-to-ready runs per role and artifact; 0 skips the measurement. */
  startupRuns: number;
  /** How long to wait for the queue to drain after the load (real data plane only). */
  drainTimeoutS: number;
  scenarios: Scenario[];
  /** Every scenario is measured this many times, round-robin (A B A B ...). */
  rounds: number;
  /** How far a greeting's `created` may lie outside its request's time before the answer counts as wrong. */
  clockSkewMs: number;
  outDir: string;
}

export const USAGE = `Usage: bun bench/main.ts [options]

  --concurrency N        connections kept busy (default 25, like the original's hey -c 25)
  --duration S           seconds of measured load on the chain (default 10)
  --warmup S             seconds of unmeasured load first, so the JIT has settled (default 10)
  --jit-warmup S         warm up at most S seconds more, while the JIT still takes 3% or more of the roles' CPU (default 30)
  --ceiling-duration S   seconds of load on the edge's /api/health (default: --duration; 0 skips it)
  --backends LIST        memory | url (MONGO_CONN, RABBITMQ_CONN from env) | local (servers test/support/backends.ts
                         starts; install them with scripts/ci/install-backends.sh); default memory
  --tracing LIST         off | on (full sampling to a local stand-in collector); default off
  --artifact LIST        binary (dist/greeting-mesh) | source (bun src/service.ts) | node (dist/node/service.js); default binary
  --transport LIST       http | grpc: every hop between roles over it (the edge is asked over HTTP); default http
  --target WHAT          what to load, repeatable, each a scenario: self (the bench's own platform, the default: the
                         combinations of --artifact, --backends, --tracing, --transport), bare (a chain of bare compiled
                         Bun.serve + fetch processes built in the run), or [NAME=]URL (an edge the bench did not start,
                         e.g. another build: main=http://127.0.0.1:9080)
  --target-pids LIST     PIDs of a URL target, to report its CPU and memory from /proc: 123,456 or a=123,b=456, or
                         auto: the processes listening on the config's role ports here (a platform started with
                         \`npm start\`); the n-th --target-pids belongs to the n-th URL --target
  --rounds N             measure every scenario N times, alternating (A B A B ...); reports medians and ranges (default 1)
  --clock-skew S         a greeting created more than S seconds outside its request's time is wrong (default 5)
  --startup-runs N       exec-to-first-200 measurements per role, of the bare Bun server and per import (default 3, 0 to skip)
  --drain-timeout S      wait this long for F to store what D published (default 30)
  --out DIR              where the JSON and HTML results go (default bench/results)

LIST is comma-separated; every combination runs, e.g. --artifact binary,node --tracing off,on runs four scenarios.
Our build against another one (\`npm start -- --processes --binary dist/greeting-mesh\` in its worktree):
  --target self --target main=http://127.0.0.1:8080 --target-pids auto --rounds 5
Roles that npm start runs cost 20-25% more CPU than the bench's own children (each is its own session, scheduled as its own
group under the kernel's autogroup): for like with like, run both builds with npm start (one with its config ports moved).`;

export class UsageError extends Error {}

function list<T extends string>(name: string, value: string, allowed: readonly T[]): T[] {
  const items = value.split(',').map((s) => s.trim()).filter(Boolean);
  for (const item of items) if (!allowed.includes(item as T)) throw new UsageError(`--${name}: '${item}' is not one of ${allowed.join(', ')}`);
  if (items.length === 0) throw new UsageError(`--${name}: give at least one of ${allowed.join(', ')}`);
  return [...new Set(items)] as T[];
}

function number(name: string, value: string, min: number, integer = false): number {
  const n = Number(value);
  if (!Number.isFinite(n) || n < min || (integer && !Number.isInteger(n))) {
    throw new UsageError(`--${name}: '${value}' is not ${integer ? 'a whole number' : 'a number'} of at least ${min}`);
  }
  return n;
}

/** `123,456`, `a=123,b=456` or `auto`: the processes of a URL target. */
function targetProcesses(value: string): TargetProcess[] | 'auto' {
  if (value.trim() === 'auto') return 'auto';
  return value
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean)
    .map((item) => {
      const [name, pidText] = item.includes('=') ? item.split('=', 2) : [undefined, item];
      const pid = Number(pidText);
      if (!Number.isInteger(pid) || pid <= 0) throw new UsageError(`--target-pids: '${item}' is not a PID or NAME=PID`);
      return { name: name || `pid ${pid}`, pid };
    });
}

/** `[NAME=]URL` of an edge; the name defaults to host:port. */
function urlTarget(value: string, processes: TargetProcess[] | 'auto'): TargetScenario {
  const eq = value.indexOf('=');
  const named = eq > 0 && !value.slice(0, eq).includes('://');
  const text = named ? value.slice(eq + 1) : value;
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new UsageError(`--target: '${value}' is not self, bare or [NAME=]http://HOST:PORT`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new UsageError(`--target: '${value}' is not an http(s) URL`);
  // The edge's base URL: a pasted greeting URL means the same edge.
  const base = `${url.origin}${url.pathname.replace(/\/api\/greeting\/?$/, '').replace(/\/$/, '')}`;
  return { kind: 'target', name: named ? value.slice(0, eq) : url.host, url: base, processes };
}

function scenariosOf(values: ReturnType<typeof parse>['values']): Scenario[] {
  const artifacts = list('artifact', values.artifact, ARTIFACTS);
  const backends = list('backends', values.backends, BACKENDS);
  const tracing = list('tracing', values.tracing, TRACING);
  const transports = list('transport', values.transport, TRANSPORTS);
  const own: PlatformScenario[] = [];
  for (const artifact of artifacts)
    for (const b of backends) for (const t of tracing) for (const transport of transports) own.push({ kind: 'platform', artifact, backends: b, tracing: t, transport });
  const targets = values.target ?? ['self'];
  const pids = (values['target-pids'] ?? []).map(targetProcesses);
  const urlTargets = targets.filter((t) => t !== 'self' && t !== 'bare').length;
  if (pids.length > urlTargets) throw new UsageError(`--target-pids: ${pids.length} given for ${urlTargets} URL target(s)`);
  const scenarios: Scenario[] = [];
  let nthUrl = 0;
  for (const target of targets) {
    if (target === 'self') scenarios.push(...own);
    else if (target === 'bare') scenarios.push({ kind: 'bare' });
    else scenarios.push(urlTarget(target, pids[nthUrl++] ?? []));
  }
  const labels = scenarios.map(labelOf);
  const repeated = labels.find((l, i) => labels.indexOf(l) !== i);
  if (repeated) throw new UsageError(`--target: '${repeated}' is given twice; name targets apart with NAME=URL`);
  return scenarios;
}

/** The scenario's name in reports: `binary/memory/tracing-off/http`, `bare-bun`, `target:main`. */
export function labelOf(s: Scenario): string {
  if (s.kind === 'bare') return 'bare-bun';
  if (s.kind === 'target') return `target:${s.name}`;
  return `${s.artifact}/${s.backends}/tracing-${s.tracing}/${s.transport}`;
}

/** Parses argv; returns undefined when --help was asked for. */
export function parseOptions(argv: string[], defaultOutDir: string): BenchOptions | undefined {
  let parsed: ReturnType<typeof parse>;
  try {
    parsed = parse(argv);
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
  const { values } = parsed;
  if (values.help) return undefined;
  const durationS = number('duration', values.duration, 0.5);
  return {
    concurrency: number('concurrency', values.concurrency, 1, true),
    durationS,
    warmupS: number('warmup', values.warmup, 0),
    maxExtraWarmupS: number('jit-warmup', values['jit-warmup'], 0),
    ceilingDurationS: values['ceiling-duration'] === undefined ? durationS : number('ceiling-duration', values['ceiling-duration'], 0),
    startupRuns: number('startup-runs', values['startup-runs'], 0, true),
    drainTimeoutS: number('drain-timeout', values['drain-timeout'], 0),
    scenarios: scenariosOf(values),
    rounds: number('rounds', values.rounds, 1, true),
    clockSkewMs: number('clock-skew', values['clock-skew'], 0) * 1000,
    outDir: values.out ?? defaultOutDir,
  };
}

function parse(argv: string[]) {
  return parseArgs({
    args: argv,
    strict: true,
    allowPositionals: false,
    options: {
      concurrency: { type: 'string', default: '25' },
      duration: { type: 'string', default: '10' },
      // Bun's JIT keeps compiling for several seconds under load; a shorter warm-up measures the compiler, not the chain.
      warmup: { type: 'string', default: '10' },
      'jit-warmup': { type: 'string', default: '30' },
      'ceiling-duration': { type: 'string' },
      backends: { type: 'string', default: 'memory' },
      tracing: { type: 'string', default: 'off' },
      artifact: { type: 'string', default: 'binary' },
      transport: { type: 'string', default: 'http' },
      target: { type: 'string', multiple: true },
      'target-pids': { type: 'string', multiple: true },
      rounds: { type: 'string', default: '1' },
      'clock-skew': { type: 'string', default: '5' },
      'startup-runs': { type: 'string', default: '3' },
      'drain-timeout': { type: 'string', default: '30' },
      out: { type: 'string' },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
}
