/**
 * The one place that reads the environment. The original platform's names work unchanged (PORT, LOG_LEVEL, SERVICE_NAME, GREETING,
 * ALLOWED_ORIGINS, SERVICE_<X>_URL, MONGO_CONN, RABBITMQ_CONN, QUEUE_NAME), so this image is a drop-in for its manifests.
 * Every bad value is reported, never silently replaced by a default.
 */
import { originProblem } from './origins';
import { readOtelEnv, type OtlpSettings, type PropagatorName } from './otel-env';
import type { Transport } from './schema';
import { ConfigError, type ConfigProblem } from './validate';

export const LOG_LEVELS = ['debug', 'info', 'warn', 'error'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

/** logrus level names the original accepted, mapped onto ours. */
const LOG_LEVEL_ALIASES: Record<string, LogLevel> = {
  trace: 'debug',
  debug: 'debug',
  info: 'info',
  warn: 'warn',
  warning: 'warn',
  error: 'error',
  fatal: 'error',
  panic: 'error',
};

export interface EnvSettings {
  /** Role id from ROLE, or undefined to find the role by SERVICE_NAME. */
  role?: string;
  configPath?: string;
  port?: number;
  logLevel: LogLevel;
  serviceName?: string;
  greeting?: string;
  version?: string;
  allowedOrigins?: string[];
  /** SERVICE_<X>_URL, keyed by lower-case role id; a `grpc://` URL is called over gRPC. */
  upstreamUrls: Record<string, string>;
  /** GREETING_SHAPE: the edge's answer as the REST array or the gRPC variant's gateway JSON. */
  greetingShape?: 'array' | 'gateway';
  /** TRANSPORT: every hop over this transport, whatever the config says (`npm start -- --transport grpc`). */
  transport?: Transport;
  /** GRPC_PORT: serve gRPC on this port (a pod that is called over gRPC gets 50051). */
  grpcPort?: number;
  mongoUrl?: string;
  rabbitmqUrl?: string;
  queueName?: string;
  upstreamTimeoutMs?: number;
  drainDelayMs?: number;
  shutdownTimeoutMs?: number;
  chaosLatencyMs?: number;
  chaosErrorRate?: number;
  /** Where spans go, over Zipkin v2 JSON and/or OTLP/HTTP; neither: tracing off. */
  zipkinUrl?: string;
  otlp?: OtlpSettings;
  traceSampleRatio: number;
  /** OTEL_PROPAGATORS: the trace context formats read and written, in precedence order. */
  propagators: PropagatorName[];
  /** OTEL_RESOURCE_ATTRIBUTES, without service.name and service.version (the role's own). */
  resourceAttributes: Record<string, string>;
  /** Standard OTEL_* settings present but deliberately not honoured (otel-env.ts says why), for the start-up log. */
  notHonoured: string[];
  /** Where the UI links a trace id: a Zipkin or Jaeger UI base URL. */
  traceUiUrl?: string;
  /** Messages an embedded in-memory queue holds before publishing is refused. */
  memoryQueueLimit?: number;
  /** The largest upstream answer read, in bytes (UPSTREAM_MAX_ANSWER_BYTES). */
  upstreamMaxAnswerBytes?: number;
  /** Upstream calls one role keeps in flight at most (UPSTREAM_MAX_IN_FLIGHT); the rest wait their turn. */
  upstreamMaxInFlight?: number;
  /** Requests in flight Bun's fetch allows per process (its own BUN_CONFIG_MAX_HTTP_REQUESTS, 256 by default). */
  fetchMaxInFlight: number;
}

/** Bun's default for BUN_CONFIG_MAX_HTTP_REQUESTS; also the default budget under Node, whose agent has no cap of its own. */
export const FETCH_MAX_IN_FLIGHT_DEFAULT = 256;

type Env = Record<string, string | undefined>;

export function readEnv(env: Env = process.env): EnvSettings {
  const problems: ConfigProblem[] = [];
  const bad = (name: string, reason: string) => problems.push({ file: 'environment', path: name, reason });
  const str = (name: string) => {
    const v = env[name];
    return v === undefined || v.trim() === '' ? undefined : v.trim();
  };
  const int = (name: string, min: number, max: number) => {
    const v = str(name);
    if (v === undefined) return undefined;
    const n = Number(v);
    if (!Number.isInteger(n) || n < min || n > max) bad(name, `'${v}' is not a whole number from ${min} to ${max}`);
    return n;
  };
  const ratio = (name: string) => {
    const v = str(name);
    if (v === undefined) return undefined;
    const n = Number(v);
    if (!Number.isFinite(n) || n < 0 || n > 1) bad(name, `'${v}' is not a number from 0 to 1`);
    return n;
  };
  const url = (name: string, protocols: string[], options: { credentials: boolean } = { credentials: true }) => {
    const v = str(name);
    if (v === undefined) return undefined;
    const scheme = /^([a-z][a-z0-9+.-]*:)\/\//i.exec(v)?.[1]?.toLowerCase();
    // The value may hold credentials: name the variable, never echo it.
    if (!scheme) bad(name, 'is not a valid URL');
    else if (!protocols.includes(scheme)) bad(name, `scheme '${scheme}' is not one of ${protocols.join(', ')}`);
    // A MongoDB seed list (host1:27017,host2:27017) is not a WHATWG URL; the driver parses it, so only the scheme is checked.
    else if (!scheme.startsWith('mongodb') && !URL.canParse(v)) bad(name, 'is not a valid URL');
    // Upstream URLs appear in answers and spans; credentials there would be shown to every caller.
    else if (!options.credentials && new URL(v).username !== '') bad(name, 'must not carry credentials (they would appear in answers)');
    return v;
  };

  const oneOf = <T extends string>(name: string, values: readonly T[]): T | undefined => {
    const v = str(name)?.toLowerCase();
    if (v === undefined) return undefined;
    if (!values.includes(v as T)) bad(name, `'${v}' is not one of ${values.join(', ')}`);
    return v as T;
  };
  const origins = (name: string) => {
    const v = str(name);
    if (v === undefined) return undefined;
    const list = v.split(',').map((o) => o.trim());
    if (list.some((o) => o === '')) bad(name, `'${v}' has an empty entry (a stray comma?): list origins like https://ui.example.com,http://localhost:4200, or *`);
    for (const o of list.filter(Boolean)) {
      const problem = originProblem(o);
      if (problem) bad(name, problem);
    }
    return list;
  };

  let port: number | undefined;
  const rawPort = str('PORT');
  if (rawPort !== undefined) {
    const m = /^:?(\d{1,5})$/.exec(rawPort);
    port = m ? Number(m[1]) : NaN;
    if (!m || port < 1 || port > 65535) bad('PORT', `'${rawPort}' is not a port (use 8080 or :8080)`);
  }

  const rawLevel = str('LOG_LEVEL')?.toLowerCase();
  const logLevel = rawLevel === undefined ? 'info' : LOG_LEVEL_ALIASES[rawLevel];
  if (!logLevel) bad('LOG_LEVEL', `'${rawLevel}' is not one of ${LOG_LEVELS.join(', ')}`);

  const upstreamUrls: Record<string, string> = {};
  for (const name of Object.keys(env)) {
    const m = /^SERVICE_([A-Z0-9]+)_URL$/.exec(name);
    if (!m) continue;
    const value = url(name, ['http:', 'https:', 'grpc:'], { credentials: false });
    if (value) upstreamUrls[m[1]!.toLowerCase()] = value.replace(/\/+$/, '');
  }

  const otel = readOtelEnv(env, bad);
  const sampleRatio = ratio('TRACE_SAMPLE_RATIO');
  if (sampleRatio !== undefined && otel.sampleRatio !== undefined) bad('OTEL_TRACES_SAMPLER', 'is set beside TRACE_SAMPLE_RATIO: set one of them');

  const settings: EnvSettings = {
    role: str('ROLE')?.toLowerCase().replace(/^service-/, ''),
    configPath: str('CONFIG_PATH'),
    port,
    logLevel: logLevel ?? 'info',
    serviceName: str('SERVICE_NAME'),
    greeting: str('GREETING'),
    version: str('SERVICE_VERSION'),
    allowedOrigins: origins('ALLOWED_ORIGINS'),
    upstreamUrls,
    transport: oneOf('TRANSPORT', ['http', 'grpc'] as const),
    greetingShape: oneOf('GREETING_SHAPE', ['array', 'gateway'] as const),
    grpcPort: int('GRPC_PORT', 1, 65_535),
    mongoUrl: url('MONGO_CONN', ['mongodb:', 'mongodb+srv:']),
    rabbitmqUrl: url('RABBITMQ_CONN', ['amqp:', 'amqps:']),
    queueName: str('QUEUE_NAME'),
    upstreamTimeoutMs: int('UPSTREAM_TIMEOUT_MS', 1, 600_000),
    drainDelayMs: int('DRAIN_DELAY_MS', 0, 600_000),
    shutdownTimeoutMs: int('SHUTDOWN_TIMEOUT_MS', 1, 600_000),
    chaosLatencyMs: int('CHAOS_LATENCY_MS', 0, 600_000),
    chaosErrorRate: ratio('CHAOS_ERROR_RATE'),
    zipkinUrl: otel.zipkinUrl,
    otlp: otel.otlp,
    traceSampleRatio: sampleRatio ?? otel.sampleRatio ?? 1,
    propagators: otel.propagators,
    resourceAttributes: otel.resourceAttributes,
    notHonoured: otel.notHonoured,
    traceUiUrl: url('TRACE_UI_URL', ['http:', 'https:']),
    memoryQueueLimit: int('MEMORY_QUEUE_LIMIT', 1, 10_000_000),
    upstreamMaxInFlight: int('UPSTREAM_MAX_IN_FLIGHT', 1, 65_535),
    upstreamMaxAnswerBytes: int('UPSTREAM_MAX_ANSWER_BYTES', 1024, 256 * 1024 * 1024),
    fetchMaxInFlight: int('BUN_CONFIG_MAX_HTTP_REQUESTS', 1, 65_535) ?? FETCH_MAX_IN_FLIGHT_DEFAULT,
  };
  if (problems.length > 0) throw new ConfigError(problems);
  return settings;
}
