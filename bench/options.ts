/**
 * The bench's command line. List options (`--artifact binary,node --tracing off,on`) multiply into scenarios, all measured in
 * one invocation so their costs compare on the same machine state.
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

export interface Scenario {
  artifact: Artifact;
  backends: Backends;
  tracing: Tracing;
  /** Every hop between roles over this transport (the edge is asked over HTTP either way). */
  transport: TransportName;
}

export interface BenchOptions {
  concurrency: number;
  durationS: number;
  warmupS: number;
  /** Further warm-up allowed, in steps, while the JIT still compiles. */
  maxExtraWarmupS: number;
  ceilingDurationS: number;
  /** Exec-to-ready runs per role and artifact; 0 skips the measurement. */
  startupRuns: number;
  /** How long to wait for the queue to drain after the load (real data plane only). */
  drainTimeoutS: number;
  scenarios: Scenario[];
  outDir: string;
}

export const USAGE = `Usage: bun bench/main.ts [options]

  --concurrency N        connections kept busy (default 25, like the original's hey -c 25)
  --duration S           seconds of measured load on the chain (default 10)
  --warmup S             seconds of unmeasured load first, so the JIT has settled (default 10)
  --jit-warmup S         warm up at most S seconds more, while the JIT still takes 3% or more of the roles' CPU (default 30)
  --ceiling-duration S   seconds of load on one role's /api/health (default: --duration)
  --backends LIST        memory | url (MONGO_CONN, RABBITMQ_CONN from env) | local (servers test/support/backends.ts
                         starts; install them with scripts/ci/install-backends.sh); default memory
  --tracing LIST         off | on (full sampling to a local stand-in collector); default off
  --artifact LIST        binary (dist/greeting-mesh) | source (bun src/service.ts) | node (dist/node/service.js); default binary
  --transport LIST       http | grpc: every hop between roles over it (the edge is asked over HTTP); default http
  --startup-runs N       exec-to-ready measurements per role and artifact (default 3, 0 to skip)
  --drain-timeout S      wait this long for F to store what D published (default 30)
  --out DIR              where the JSON and HTML results go (default bench/results)

LIST is comma-separated; every combination runs, e.g. --artifact binary,node --tracing off,on runs four scenarios.`;

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
  const artifacts = list('artifact', values.artifact, ARTIFACTS);
  const backends = list('backends', values.backends, BACKENDS);
  const tracing = list('tracing', values.tracing, TRACING);
  const transports = list('transport', values.transport, TRANSPORTS);
  const scenarios: Scenario[] = [];
  for (const artifact of artifacts)
    for (const b of backends) for (const t of tracing) for (const transport of transports) scenarios.push({ artifact, backends: b, tracing: t, transport });
  return {
    concurrency: number('concurrency', values.concurrency, 1, true),
    durationS,
    warmupS: number('warmup', values.warmup, 0),
    maxExtraWarmupS: number('jit-warmup', values['jit-warmup'], 0),
    ceilingDurationS: values['ceiling-duration'] === undefined ? durationS : number('ceiling-duration', values['ceiling-duration'], 0.5),
    startupRuns: number('startup-runs', values['startup-runs'], 0, true),
    drainTimeoutS: number('drain-timeout', values['drain-timeout'], 0),
    scenarios,
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
      'startup-runs': { type: 'string', default: '3' },
      'drain-timeout': { type: 'string', default: '30' },
      out: { type: 'string' },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
}
