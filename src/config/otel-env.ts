/**
 * The OpenTelemetry SDK's standard variables that greeting-mesh honours, parsed from the environment env.ts read (this file
 * never reads process.env itself), each checked like every other variable: a bad value is a problem naming the variable,
 * never echoing a value that may hold a token. Which ones, and what each means here:
 *
 *   OTEL_EXPORTER_OTLP_ENDPOINT          base URL; traces go to <it>/v1/traces (OTLP/HTTP, protobuf)
 *   OTEL_EXPORTER_OTLP_TRACES_ENDPOINT   the traces URL itself (wins over the base)
 *   OTEL_EXPORTER_OTLP[_TRACES]_HEADERS  `key=value,...`, values percent-encoded; sent with every export, never logged
 *   OTEL_EXPORTER_OTLP[_TRACES]_TIMEOUT  milliseconds per export (the SDK's default 10000)
 *   OTEL_EXPORTER_OTLP[_TRACES]_COMPRESSION  gzip or none
 *   OTEL_EXPORTER_OTLP[_TRACES]_PROTOCOL http/protobuf only (grpc and http/json are refused, not silently replaced)
 *   OTEL_TRACES_EXPORTER                 otlp, zipkin (a list) or none; unset: every exporter whose endpoint is set;
 *                                        a listed exporter without an endpoint gets the SDK's default (localhost)
 *   OTEL_EXPORTER_ZIPKIN_ENDPOINT        the standard name of ZIPKIN_URL (both set: they must agree)
 *   OTEL_TRACES_SAMPLER[_ARG]            parentbased_traceidratio (with ARG), parentbased_always_on, parentbased_always_off
 *   OTEL_PROPAGATORS                     tracecontext, b3multi (the order is the precedence; see telemetry/propagation.ts);
 *                                        baggage is accepted (it is in the SDK's default list) and changes nothing
 *   OTEL_RESOURCE_ATTRIBUTES             `key=value,...` added to every span's resource
 *   OTEL_SDK_DISABLED                    true: tracing off whatever else is set
 *
 * Not honoured, on purpose, and said at start-up: OTEL_SERVICE_NAME and a service.name or service.version in
 * OTEL_RESOURCE_ATTRIBUTES. A role's service.name is its workload name (`service-b`), the name the Kubernetes Service, Istio's
 * telemetry, Kiali and the trace UI link all agree on; the OpenTelemetry Operator injects OTEL_SERVICE_NAME, so refusing it
 * would stop the start instead.
 */
import { MAX_DURATION_MS } from './limits';

/** These variables' rows in the README's table of variables (env.ts puts them after its own). */
export const OTEL_DOCS: { names: string[]; doc: string }[] = [
  { names: ['ZIPKIN_URL', 'OTEL_EXPORTER_ZIPKIN_ENDPOINT'], doc: 'the Zipkin v2 span endpoint (the second is its standard name; set both and they must agree)' },
  {
    names: ['OTEL_EXPORTER_OTLP_ENDPOINT', 'OTEL_EXPORTER_OTLP_TRACES_ENDPOINT'],
    doc: 'OTLP over HTTP (protobuf) beside or instead of Zipkin: the base (traces go to its `/v1/traces`) or the traces URL itself; `..._HEADERS` (`key=value,...`, a collector\'s token: checked, never logged), `..._TIMEOUT` (ms), `..._COMPRESSION` (`gzip`), `..._PROTOCOL` (only `http/protobuf`)',
  },
  {
    names: ['OTEL_PROPAGATORS'],
    doc: 'the trace context formats read and written, `tracecontext,b3multi` by default; the last listed wins when both are present and disagree (see "Traces" below); `baggage` accepted, changes nothing',
  },
  {
    names: ['OTEL_TRACES_SAMPLER', 'OTEL_TRACES_SAMPLER_ARG'],
    doc: '`parentbased_traceidratio` (with the ratio), `parentbased_always_on`, `parentbased_always_off`: the standard spelling of `TRACE_SAMPLE_RATIO` (set one); the non-parent-based samplers are refused (a hop that decides again breaks traces apart)',
  },
  {
    names: ['OTEL_TRACES_EXPORTER', 'OTEL_SDK_DISABLED', 'OTEL_RESOURCE_ATTRIBUTES'],
    doc: '`otlp`, `zipkin` or `none` (unset: each exporter whose endpoint is set); `true` turns tracing off; attributes added to the spans\' resource',
  },
  {
    names: ['OTEL_SERVICE_NAME'],
    doc: 'reported at start-up and not taken (nor `service.name` in the attributes): a role\'s service name is its workload name, the one Istio, Kiali and the trace links use',
  },
];

export const PROPAGATOR_NAMES = ['tracecontext', 'b3multi'] as const;
export type PropagatorName = (typeof PROPAGATOR_NAMES)[number];

export interface OtlpSettings {
  url: string;
  headers: Record<string, string>;
  timeoutMs?: number;
  compression?: 'gzip' | 'none';
}

export interface OtelSettings {
  otlp?: OtlpSettings;
  /** The Zipkin endpoint: ZIPKIN_URL or OTEL_EXPORTER_ZIPKIN_ENDPOINT, unless OTEL_TRACES_EXPORTER or OTEL_SDK_DISABLED rule it out. */
  zipkinUrl?: string;
  propagators: PropagatorName[];
  /** From OTEL_TRACES_SAMPLER[_ARG], when set. */
  sampleRatio?: number;
  resourceAttributes: Record<string, string>;
  /** Standard variables (or parts of them) present but not honoured, for the start-up log. */
  notHonoured: string[];
}

type Env = Record<string, string | undefined>;
type Bad = (name: string, reason: string) => void;

/** The SDK's defaults, used when OTEL_TRACES_EXPORTER asks for an exporter whose endpoint is not set. */
const DEFAULT_OTLP_ENDPOINT = 'http://localhost:4318';
const DEFAULT_ZIPKIN_ENDPOINT = 'http://localhost:9411/api/v2/spans';
const TOKEN = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;
/** A header value as fetch and node:http accept it: no control characters (a CR or LF would split the request). */
const HEADER_VALUE = /^[\t\x20-\x7e\x80-\xff]*$/;

function value(env: Env, name: string): string | undefined {
  const v = env[name];
  return v === undefined || v.trim() === '' ? undefined : v.trim();
}

/** The first of the signal-specific and the general variable that is set, with its name (for the problem it may cause). */
function specific(env: Env, suffix: string): { name: string; value: string } | undefined {
  for (const name of [`OTEL_EXPORTER_OTLP_TRACES_${suffix}`, `OTEL_EXPORTER_OTLP_${suffix}`]) {
    const v = value(env, name);
    if (v !== undefined) return { name, value: v };
  }
  return undefined;
}

/**
 * `key=value,...` (W3C Baggage's list syntax, which both variables use), values percent-decoded. A broken entry is reported by
 * its position only: the entry may be the token itself, typed without its key.
 */
function keyValues(name: string, raw: string, bad: Bad, checkValue: (v: string) => boolean, what: string): Record<string, string> {
  const out: Record<string, string> = {};
  raw.split(',').forEach((entry, i) => {
    if (entry.trim() === '') return;
    const eq = entry.indexOf('=');
    const key = eq < 0 ? '' : entry.slice(0, eq).trim();
    if (eq < 0 || !TOKEN.test(key)) return bad(name, `entry ${i + 1} is not key=value with a key of letters, digits and -._~`);
    let decoded: string;
    try {
      decoded = decodeURIComponent(entry.slice(eq + 1).trim());
    } catch {
      return bad(name, `the value of entry ${i + 1} (${key}) is not valid percent-encoding`);
    }
    if (!checkValue(decoded)) return bad(name, `the value of entry ${i + 1} (${key}) holds ${what}`);
    out[key] = decoded;
  });
  return out;
}

function endpoint(name: string, raw: string, bad: Bad): string | undefined {
  const scheme = /^([a-z][a-z0-9+.-]*:)\/\//i.exec(raw)?.[1]?.toLowerCase();
  // It may carry credentials: the variable is named, the value never echoed.
  if (!scheme || !URL.canParse(raw)) bad(name, 'is not a valid URL');
  else if (scheme !== 'http:' && scheme !== 'https:') bad(name, `scheme '${scheme}' is not one of http:, https:`);
  else return raw;
  return undefined;
}

function otlpSettings(env: Env, bad: Bad, wanted: boolean): OtlpSettings | undefined {
  const tracesUrl = value(env, 'OTEL_EXPORTER_OTLP_TRACES_ENDPOINT');
  const baseUrl = value(env, 'OTEL_EXPORTER_OTLP_ENDPOINT') ?? (wanted && !tracesUrl ? DEFAULT_OTLP_ENDPOINT : undefined);
  let url: string | undefined;
  // As the specification says: the signal's own endpoint is used as it is, the base one gets the signal's path.
  if (tracesUrl) url = endpoint('OTEL_EXPORTER_OTLP_TRACES_ENDPOINT', tracesUrl, bad);
  else if (baseUrl) {
    const base = endpoint('OTEL_EXPORTER_OTLP_ENDPOINT', baseUrl, bad);
    if (base) url = `${base.replace(/\/+$/, '')}/v1/traces`;
  }
  const protocol = specific(env, 'PROTOCOL');
  if (protocol && protocol.value !== 'http/protobuf')
    bad(protocol.name, `'${protocol.value}' is not supported: greeting-mesh exports OTLP over HTTP with protobuf (http/protobuf)`);
  const headers: Record<string, string> = {};
  // The general headers first, the signal's own over them, as the specification merges them.
  for (const name of ['OTEL_EXPORTER_OTLP_HEADERS', 'OTEL_EXPORTER_OTLP_TRACES_HEADERS']) {
    const raw = value(env, name);
    if (raw !== undefined) Object.assign(headers, keyValues(name, raw, bad, (v) => HEADER_VALUE.test(v), 'characters an HTTP header cannot carry'));
  }
  let timeoutMs: number | undefined;
  const timeout = specific(env, 'TIMEOUT');
  if (timeout) {
    timeoutMs = Number(timeout.value);
    if (!Number.isInteger(timeoutMs) || timeoutMs < 1 || timeoutMs > MAX_DURATION_MS) bad(timeout.name, `'${timeout.value}' is not a whole number of milliseconds from 1 to ${MAX_DURATION_MS}`);
  }
  const compression = specific(env, 'COMPRESSION');
  if (compression && compression.value !== 'gzip' && compression.value !== 'none') bad(compression.name, `'${compression.value}' is not gzip or none`);
  if (!url) return undefined;
  return { url, headers, ...(timeoutMs !== undefined && { timeoutMs }), ...(compression && { compression: compression.value as 'gzip' | 'none' }) };
}

/** Per exporter: true listed, false left out, undefined when OTEL_TRACES_EXPORTER is unset (on when its endpoint is set). */
function exporters(env: Env, bad: Bad): { otlp: boolean | undefined; zipkin: boolean | undefined } {
  const raw = value(env, 'OTEL_TRACES_EXPORTER');
  if (raw === undefined) return { otlp: undefined, zipkin: undefined };
  const list = raw.split(',').map((e) => e.trim().toLowerCase());
  for (const e of list) if (!['otlp', 'zipkin', 'none'].includes(e)) bad('OTEL_TRACES_EXPORTER', `'${e}' is not one of otlp, zipkin, none`);
  if (list.includes('none') && list.length > 1) bad('OTEL_TRACES_EXPORTER', "'none' cannot be combined with an exporter");
  return { otlp: list.includes('otlp'), zipkin: list.includes('zipkin') };
}

function zipkinUrl(env: Env, bad: Bad, wanted: boolean): string | undefined {
  const ours = value(env, 'ZIPKIN_URL');
  const standard = value(env, 'OTEL_EXPORTER_ZIPKIN_ENDPOINT');
  if (ours !== undefined && standard !== undefined && ours !== standard) bad('OTEL_EXPORTER_ZIPKIN_ENDPOINT', 'differs from ZIPKIN_URL: set one of them');
  const [name, raw] = ours !== undefined ? ['ZIPKIN_URL', ours] : standard !== undefined ? ['OTEL_EXPORTER_ZIPKIN_ENDPOINT', standard] : ['', wanted ? DEFAULT_ZIPKIN_ENDPOINT : undefined];
  return raw === undefined ? undefined : endpoint(name, raw, bad);
}

function sampler(env: Env, bad: Bad): number | undefined {
  const name = value(env, 'OTEL_TRACES_SAMPLER')?.toLowerCase();
  const arg = value(env, 'OTEL_TRACES_SAMPLER_ARG');
  if (name === undefined) {
    if (arg !== undefined) bad('OTEL_TRACES_SAMPLER_ARG', 'is set without OTEL_TRACES_SAMPLER=parentbased_traceidratio');
    return undefined;
  }
  if (name === 'parentbased_always_on') return 1;
  if (name === 'parentbased_always_off') return 0;
  if (name === 'parentbased_traceidratio') {
    const ratio = arg === undefined ? 1 : Number(arg);
    if (!Number.isFinite(ratio) || ratio < 0 || ratio > 1) bad('OTEL_TRACES_SAMPLER_ARG', `'${arg}' is not a number from 0 to 1`);
    return ratio;
  }
  // Parent-based only: a hop that decided again would drop its spans from traces its callers record, or record orphans.
  if (['always_on', 'always_off', 'traceidratio'].includes(name))
    bad('OTEL_TRACES_SAMPLER', `'${name}' ignores the caller's decision and breaks the mesh's traces apart: use parentbased_${name}`);
  else bad('OTEL_TRACES_SAMPLER', `'${name}' is not one of parentbased_traceidratio, parentbased_always_on, parentbased_always_off`);
  return undefined;
}

function propagators(env: Env, bad: Bad): PropagatorName[] {
  const raw = value(env, 'OTEL_PROPAGATORS');
  if (raw === undefined) return ['tracecontext', 'b3multi'];
  const list: PropagatorName[] = [];
  for (const entry of raw.split(',').map((e) => e.trim().toLowerCase())) {
    if ((PROPAGATOR_NAMES as readonly string[]).includes(entry)) {
      if (!list.includes(entry as PropagatorName)) list.push(entry as PropagatorName);
    } else if (entry === 'b3') bad('OTEL_PROPAGATORS', "'b3' (the single `b3` header) is not supported: Envoy and Istio use b3multi");
    else if (entry === 'none') bad('OTEL_PROPAGATORS', "'none' would break every trace at this role: list tracecontext and/or b3multi");
    else if (entry !== 'baggage') bad('OTEL_PROPAGATORS', `'${entry}' is not one of tracecontext, b3multi, baggage`);
  }
  if (list.length === 0 && raw.split(',').every((e) => e.trim().toLowerCase() === 'baggage'))
    bad('OTEL_PROPAGATORS', 'lists no trace context format: add tracecontext and/or b3multi');
  return list;
}

export function readOtelEnv(env: Env, bad: Bad): OtelSettings {
  const notHonoured: string[] = [];
  const disabled = value(env, 'OTEL_SDK_DISABLED')?.toLowerCase();
  if (disabled !== undefined && disabled !== 'true' && disabled !== 'false') bad('OTEL_SDK_DISABLED', `'${disabled}' is not true or false`);
  const wanted = exporters(env, bad);
  const otlp = otlpSettings(env, bad, wanted.otlp === true);
  if (value(env, 'OTEL_SERVICE_NAME') !== undefined) notHonoured.push('OTEL_SERVICE_NAME');
  const resourceAttributes: Record<string, string> = {};
  const rawAttributes = value(env, 'OTEL_RESOURCE_ATTRIBUTES');
  if (rawAttributes !== undefined) {
    for (const [k, v] of Object.entries(keyValues('OTEL_RESOURCE_ATTRIBUTES', rawAttributes, bad, (s) => !/[\x00-\x1f\x7f]/.test(s), 'control characters'))) {
      if (k === 'service.name' || k === 'service.version') notHonoured.push(`OTEL_RESOURCE_ATTRIBUTES ${k}`);
      else resourceAttributes[k] = v;
    }
  }
  const zipkin = zipkinUrl(env, bad, wanted.zipkin === true);
  const off = disabled === 'true';
  return {
    otlp: off || wanted.otlp === false ? undefined : otlp,
    zipkinUrl: off || wanted.zipkin === false ? undefined : zipkin,
    propagators: propagators(env, bad),
    sampleRatio: sampler(env, bad),
    resourceAttributes,
    notHonoured,
  };
}
