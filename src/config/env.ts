/**
 * The one place that reads the environment. The original platform's names work unchanged (PORT, LOG_LEVEL, SERVICE_NAME, GREETING,
 * ALLOWED_ORIGINS, SERVICE_<X>_URL, MONGO_CONN, RABBITMQ_CONN, QUEUE_NAME), so this image is a drop-in for its manifests.
 * Every bad value is reported, never silently replaced by a default.
 */
import { MAX_BYTES, MAX_DURATION_MS } from './limits';
import { originProblem } from './origins';
import { queueNameProblem } from './queue-name';
import { OTEL_DOCS, readOtelEnv, type OtlpSettings, type PropagatorName } from './otel-env';
import { ConfigError, type ConfigProblem } from './config-error';

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

/** What a reader makes of a set, non-blank value; a bad one is reported through `bad` (naming the variable, never echoing it). */
type Reader<T> = (raw: string, bad: (reason: string) => void) => T;

interface Variable<T> {
  /** The variable's name, as a pod or a shell sets it. */
  name: string;
  read: Reader<T>;
  /** Its row in the README's table of variables (rendered from here: `npm run render`). */
  doc: string;
  /** The value when unset; without one, an unset variable is `undefined` and the config's value applies. */
  fallback?: T;
}

function variable<T>(name: string, read: Reader<T>, doc: string): Variable<T>;
function variable<T>(name: string, read: Reader<T>, doc: string, fallback: T): Variable<T> & { fallback: T };
function variable<T>(name: string, read: Reader<T>, doc: string, fallback?: T): Variable<T> {
  return { name, read, doc, ...(fallback !== undefined && { fallback }) };
}

const text: Reader<string> = (raw) => raw;

const int =
  (min: number, max: number): Reader<number> =>
  (raw, bad) => {
    const n = Number(raw);
    if (!Number.isInteger(n) || n < min || n > max) bad(`'${raw}' is not a whole number from ${min} to ${max}`);
    return n;
  };

const ratio: Reader<number> = (raw, bad) => {
  const n = Number(raw);
  if (!Number.isFinite(n) || n < 0 || n > 1) bad(`'${raw}' is not a number from 0 to 1`);
  return n;
};

const oneOf =
  <T extends string>(values: readonly T[]): Reader<T> =>
  (raw, bad) => {
    const v = raw.toLowerCase();
    if (!values.includes(v as T)) bad(`'${v}' is not one of ${values.join(', ')}`);
    return v as T;
  };

/** `credentials: false` for a URL that is shown to callers (in answers, spans or the UI): a user or password in it is refused. */
const url =
  (protocols: string[], options: { credentials: boolean } = { credentials: true }): Reader<string> =>
  (raw, bad) => {
    const scheme = /^([a-z][a-z0-9+.-]*:)\/\//i.exec(raw)?.[1]?.toLowerCase();
    // The value may hold credentials: name the variable, never echo it.
    if (!scheme) bad('is not a valid URL');
    else if (!protocols.includes(scheme)) bad(`scheme '${scheme}' is not one of ${protocols.join(', ')}`);
    // A MongoDB seed list (host1:27017,host2:27017) is not a WHATWG URL; the driver parses it, so only the scheme is checked.
    else if (!scheme.startsWith('mongodb') && !URL.canParse(raw)) bad('is not a valid URL');
    else {
      const parsed = scheme.startsWith('mongodb') ? undefined : new URL(raw);
      // Shown to callers: a password alone (`http://:secret@host`) is a credential too.
      if (!options.credentials && parsed && (parsed.username !== '' || parsed.password !== '')) bad('must not carry credentials (the value is shown to callers)');
      // grpc-js dials host:port; a path, query or fragment would be dropped, or fail every call.
      else if (scheme === 'grpc:' && parsed && (parsed.pathname.replace(/^\/$/, '') !== '' || parsed.search !== '' || parsed.hash !== '')) bad('a gRPC upstream is grpc://host:port, with no path, query or fragment');
    }
    return raw;
  };

const origins: Reader<string[]> = (raw, bad) => {
  const list = raw.split(',').map((o) => o.trim());
  if (list.some((o) => o === '')) bad(`'${raw}' has an empty entry (a stray comma?): list origins like https://ui.example.com,http://localhost:4200, or *`);
  for (const o of list.filter(Boolean)) {
    const problem = originProblem(o);
    if (problem) bad(problem);
  }
  return list;
};

const port: Reader<number> = (raw, bad) => {
  const m = /^:?(\d{1,5})$/.exec(raw);
  const n = m ? Number(m[1]) : NaN;
  if (!m || n < 1 || n > 65535) bad(`'${raw}' is not a port (use 8080 or :8080)`);
  return n;
};

const queueName: Reader<string> = (raw, bad) => {
  const problem = queueNameProblem(raw);
  if (problem) bad(problem);
  return raw;
};

const logLevel: Reader<LogLevel> = (raw, bad) => {
  // Own keys only: `constructor` or `__proto__` must not find Object's.
  const level = Object.hasOwn(LOG_LEVEL_ALIASES, raw.toLowerCase()) ? LOG_LEVEL_ALIASES[raw.toLowerCase()] : undefined;
  if (!level) bad(`'${raw.toLowerCase()}' is not one of ${LOG_LEVELS.join(', ')}`);
  return level ?? 'info';
};

/** Bun's default for BUN_CONFIG_MAX_HTTP_REQUESTS; also the default budget under Node, whose agent has no cap of its own. */
export const FETCH_MAX_IN_FLIGHT_DEFAULT = 256;

/**
 * Every plain variable, declared once: its name, how its value is read and checked, its documentation. `EnvSettings` and the
 * README's table are derived from this, so a new variable is one entry here (and its use where it matters). Two families are
 * read apart, below: SERVICE_<X>_URL (one per upstream) and the OpenTelemetry SDK's OTEL_* (otel-env.ts, which documents its
 * own rows in the same table).
 */
export const VARIABLES = {
  role: variable('ROLE', (raw) => raw.toLowerCase().replace(/^service-/, ''), 'role id (`a`..`h`); when unset, `SERVICE_NAME` is matched against the role names'),
  port: variable('PORT', port, '`8080` or `:8080`'),
  logLevel: variable('LOG_LEVEL', logLevel, '`debug`, `info`, `warn`, `error` (logrus names accepted); anything else stops the start', 'info' as LogLevel),
  serviceName: variable('SERVICE_NAME', text, "overrides the role's name"),
  greeting: variable('GREETING', text, "overrides the role's greeting"),
  version: variable(
    'SERVICE_VERSION',
    text,
    "the version to run and report (the manifests set it from the pod's `version` label; default: the role's default version, `v1`). For a role that declares `versions`, it picks one and its overrides; a name the role does not declare stops the start with exit 78",
  ),
  allowedOrigins: variable('ALLOWED_ORIGINS', origins, 'edge CORS origins, a comma list (`*` is never combined with credentials)'),
  mongoUrl: variable('MONGO_CONN', url(['mongodb:', 'mongodb+srv:']), 'a real MongoDB; unset = an embedded in-memory store'),
  rabbitmqUrl: variable('RABBITMQ_CONN', url(['amqp:', 'amqps:']), 'a real RabbitMQ; unset = an embedded in-memory queue'),
  queueName: variable('QUEUE_NAME', queueName, 'overrides the queue D publishes to and F consumes'),
  configPath: variable('CONFIG_PATH', text, 'a config file instead of the one compiled in'),
  transport: variable('TRANSPORT', oneOf(['http', 'grpc'] as const), '`http` or `grpc`: every hop over it, whatever the config says (`npm start -- --transport grpc`)'),
  grpcPort: variable('GRPC_PORT', int(1, 65_535), 'serve gRPC on this port (a pod that is called over gRPC gets 50051)'),
  greetingShape: variable(
    'GREETING_SHAPE',
    oneOf(['array', 'gateway'] as const),
    "the edge's answer: `array` (default) or `gateway` (`{\"greeting\": [...]}`, as the gRPC variant's UI reads)",
  ),
  upstreamTimeoutMs: variable('UPSTREAM_TIMEOUT_MS', int(1, MAX_DURATION_MS), 'how long each upstream call may take, in ms (default in `config/services.json`)'),
  drainDelayMs: variable('DRAIN_DELAY_MS', int(0, MAX_DURATION_MS), 'on SIGTERM, how long the role keeps serving while not ready, in ms, before it stops taking requests (default in the config)'),
  shutdownTimeoutMs: variable('SHUTDOWN_TIMEOUT_MS', int(1, MAX_DURATION_MS), 'how long shutdown waits, after the drain delay, for requests in flight and the backends, in ms (default in the config)'),
  chaosLatencyMs: variable('CHAOS_LATENCY_MS', int(0, MAX_DURATION_MS), 'staged latency without Istio, on the greeting route only (off by default)'),
  chaosErrorRate: variable('CHAOS_ERROR_RATE', ratio, 'staged failures without Istio (a share from 0 to 1 answered 500), on the greeting route only (off by default)'),
  traceSampleRatio: variable('TRACE_SAMPLE_RATIO', ratio, 'the share of requests the edge samples when no caller decided (default 1); `OTEL_TRACES_SAMPLER` is its standard spelling (set one)'),
  traceUiUrl: variable(
    'TRACE_UI_URL',
    // The UI and /api/topology hand it to every browser.
    url(['http:', 'https:'], { credentials: false }),
    'where the UI links a trace (a URL with "jaeger" or port 16686 links `<url>/trace/<id>`, otherwise Zipkin\'s `<url>/zipkin/traces/<id>`)',
  ),
  memoryQueueLimit: variable(
    'MEMORY_QUEUE_LIMIT',
    int(1, 10_000_000),
    "messages an embedded queue holds before D's publish is refused with 503 (default 10,000); matters only with one process per role and no RabbitMQ, where D's queue has no consumer",
  ),
  upstreamMaxInFlight: variable(
    'UPSTREAM_MAX_IN_FLIGHT',
    int(1, 65_535),
    "upstream calls one role keeps in flight (default: Bun's fetch cap, `BUN_CONFIG_MAX_HTTP_REQUESTS` = 256, shared out when roles share a process); the rest wait their turn within their deadline",
  ),
  upstreamMaxAnswerBytes: variable('UPSTREAM_MAX_ANSWER_BYTES', int(1024, MAX_BYTES), 'the largest upstream answer read (default 1 MiB); a larger one is a failed subtree'),
  fetchMaxInFlight: variable('BUN_CONFIG_MAX_HTTP_REQUESTS', int(1, 65_535), "Bun's own cap on a process's fetch requests in flight, read here to size the call budget", FETCH_MAX_IN_FLIGHT_DEFAULT),
} satisfies Record<string, Variable<unknown>>;

type Plain = {
  [K in keyof typeof VARIABLES]: (typeof VARIABLES)[K] extends { fallback: infer F } ? F : ReturnType<(typeof VARIABLES)[K]['read']> | undefined;
};

export type EnvSettings = Plain & {
  /** SERVICE_<X>_URL, keyed by lower-case role id; a `grpc://` URL is called over gRPC. */
  upstreamUrls: Record<string, string>;
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
};

/** The families read apart from VARIABLES, as the README's table shows them. */
const UPSTREAM_URL_DOC = {
  names: ['SERVICE_<X>_URL'],
  doc: 'URL of upstream role x (default: its local port on 127.0.0.1); `grpc://host:port` calls it over gRPC',
};

/** The README's table of variables: every plain one, then the upstream URLs and the OpenTelemetry SDK's. */
export function variableDocs(): { names: string[]; doc: string }[] {
  return [...Object.values(VARIABLES).map((v: Variable<unknown>) => ({ names: [v.name], doc: v.doc })), UPSTREAM_URL_DOC, ...OTEL_DOCS];
}

const UPSTREAM_URL = url(['http:', 'https:', 'grpc:'], { credentials: false });

type Env = Record<string, string | undefined>;

export function readEnv(env: Env = process.env): EnvSettings {
  const problems: ConfigProblem[] = [];
  const bad = (name: string, reason: string) => problems.push({ file: 'environment', path: name, reason });
  const plain: Record<string, unknown> = {};
  for (const [key, v] of Object.entries(VARIABLES) as [string, Variable<unknown>][]) {
    const raw = env[v.name]?.trim();
    plain[key] = raw === undefined || raw === '' ? v.fallback : v.read(raw, (reason) => bad(v.name, reason));
  }
  const settings = plain as Plain;

  const upstreamUrls: Record<string, string> = {};
  for (const name of Object.keys(env)) {
    const m = /^SERVICE_([A-Z0-9]+)_URL$/.exec(name);
    if (!m) continue;
    const raw = env[name]?.trim();
    if (!raw) continue;
    upstreamUrls[m[1]!.toLowerCase()] = UPSTREAM_URL(raw, (reason) => bad(name, reason)).replace(/\/+$/, '');
  }

  const otel = readOtelEnv(env, bad);
  if (settings.traceSampleRatio !== undefined && otel.sampleRatio !== undefined) bad('OTEL_TRACES_SAMPLER', 'is set beside TRACE_SAMPLE_RATIO: set one of them');
  if (problems.length > 0) throw new ConfigError(problems);
  return {
    ...settings,
    upstreamUrls,
    zipkinUrl: otel.zipkinUrl,
    otlp: otel.otlp,
    traceSampleRatio: settings.traceSampleRatio ?? otel.sampleRatio ?? 1,
    propagators: otel.propagators,
    resourceAttributes: otel.resourceAttributes,
    notHonoured: otel.notHonoured,
  };
}
