/**
 * A real Jaeger for tests: the all-in-one (`cmd/jaeger` of github.com/jaegertracing/jaeger v1.76.0, the Jaeger v2.13.0 release,
 * built by scripts/ci/install-observability.sh) with in-memory storage, every listener on a free loopback port. It receives
 * spans over Zipkin v2 (ZIPKIN_URL) and OTLP/HTTP (OTEL_EXPORTER_OTLP_ENDPOINT), the service's two exporters, and tests read
 * traces back from the query API the Jaeger UI uses (`/api/traces/<id>`, `/api/traces?service=`, `/api/services`).
 */
import { stringify } from 'yaml';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { freePort } from '../../src/platform/processes';
import { ownedProcess } from './owned-process';
import { requireTool, toolsBin, type FoundTool } from './tools';
import type { ZipkinSpan } from './zipkin-collector';

export const JAEGER_VERSION = 'v2.13.0';

export function jaegerBinary(): FoundTool {
  return requireTool({
    command: 'jaeger',
    envVar: 'JAEGER_BIN',
    candidates: [join(toolsBin(), 'jaeger')],
    versionArgs: ['version'],
    parseVersion: (out) => /"gitVersion":"([^"]+)"/.exec(out)?.[1],
    want: JAEGER_VERSION,
    accepts: (version) => version === JAEGER_VERSION,
    elsewhere:
      'with Go 1.24+, `go mod download -json github.com/jaegertracing/jaeger@v1.76.0`, then in its Dir ' +
      "`go build -ldflags='-X github.com/jaegertracing/jaeger/internal/version.latestVersion=v2.13.0' -o jaeger ./cmd/jaeger`",
  });
}

/** How a service exports its spans: Zipkin v2 JSON (ZIPKIN_URL) or OTLP over HTTP with protobuf (OTEL_EXPORTER_OTLP_ENDPOINT). */
export type TraceProtocol = 'zipkin' | 'otlp';

/** The Jaeger query API's trace: spans refer to their process (service) by id, parents through CHILD_OF references. */
export interface JaegerTrace {
  traceID: string;
  spans: {
    traceID: string;
    spanID: string;
    operationName: string;
    references: { refType: 'CHILD_OF' | 'FOLLOWS_FROM'; traceID: string; spanID: string }[];
    startTime: number;
    duration: number;
    tags: { key: string; type: string; value: unknown }[];
    processID: string;
  }[];
  processes: Record<string, { serviceName: string }>;
}

export interface Jaeger {
  readonly version: string;
  /** The env that points a service's exporter at this Jaeger. */
  exporterEnv(protocol: TraceProtocol): Record<string, string>;
  readonly queryUrl: string;
  services(): Promise<string[]>;
  /** The trace as stored, or undefined while Jaeger has none of its spans. */
  trace(traceId: string): Promise<JaegerTrace | undefined>;
  /** Traces with a span of `service`, newest first. */
  findTraces(service: string, limit?: number): Promise<JaegerTrace[]>;
  /** Polls the trace until `done` holds for its spans (or the time is up) and returns the spans seen last. */
  waitForTrace(traceId: string, done: (spans: ZipkinSpan[]) => boolean, timeoutMs?: number): Promise<ZipkinSpan[]>;
  stop(): Promise<void>;
}

/**
 * A trace in the Zipkin v2 model that test/observability/trace-shape.ts checks: Jaeger stores Zipkin's span kind as the
 * `span.kind` tag and the parent as a CHILD_OF reference.
 */
export function asZipkinSpans(trace: JaegerTrace | undefined): ZipkinSpan[] {
  if (!trace) return [];
  return trace.spans.map((span) => {
    const tags = Object.fromEntries(span.tags.map((t) => [t.key, String(t.value)]));
    const kind = tags['span.kind']?.toUpperCase() as ZipkinSpan['kind'];
    const parent = span.references.find((r) => r.refType === 'CHILD_OF');
    return {
      traceId: span.traceID,
      id: span.spanID,
      ...(parent ? { parentId: parent.spanID } : {}),
      name: span.operationName,
      kind,
      timestamp: span.startTime,
      duration: span.duration,
      localEndpoint: { serviceName: trace.processes[span.processID]?.serviceName ?? `(no process ${span.processID})` },
      tags,
    };
  });
}

const listen = (port: number) => `127.0.0.1:${port}`;

/** The all-in-one's pipeline with only what the tests need: no sampling server, no self-tracing, no metrics listener. */
function configFor(ports: Record<'health' | 'queryHttp' | 'queryGrpc' | 'otlpHttp' | 'zipkin', number>): object {
  return {
    service: {
      extensions: ['jaeger_storage', 'jaeger_query', 'healthcheckv2'],
      pipelines: { traces: { receivers: ['otlp', 'zipkin'], exporters: ['jaeger_storage_exporter'] } },
      // Jaeger's own metrics would listen on a fixed port (8888), which concurrent suites would fight over.
      telemetry: { metrics: { level: 'none' }, logs: { level: 'warn' } },
    },
    extensions: {
      healthcheckv2: { use_v2: true, http: { endpoint: listen(ports.health) } },
      jaeger_query: {
        enable_tracing: false,
        storage: { traces: 'memstore' },
        http: { endpoint: listen(ports.queryHttp) },
        grpc: { endpoint: listen(ports.queryGrpc) },
      },
      jaeger_storage: { backends: { memstore: { memory: { max_traces: 10_000 } } } },
    },
    receivers: {
      otlp: { protocols: { http: { endpoint: listen(ports.otlpHttp) } } },
      zipkin: { endpoint: listen(ports.zipkin) },
    },
    exporters: { jaeger_storage_exporter: { trace_storage: 'memstore' } },
  };
}

async function getJson<T>(url: string): Promise<{ status: number; body?: T }> {
  const response = await fetch(url, { signal: AbortSignal.timeout(5_000) });
  if (response.status !== 200) {
    await response.arrayBuffer();
    return { status: response.status };
  }
  return { status: 200, body: (await response.json()) as T };
}

/** Starts Jaeger and waits until its receivers and query API answer. Throws with the install hint when the binary is missing. */
export async function startJaeger(): Promise<Jaeger> {
  const binary = jaegerBinary();
  let lastError = '';
  // A free port can be taken between choosing it and Jaeger binding it (other suites run alongside): try fresh ports again.
  for (let attempt = 1; attempt <= 3; attempt++) {
    const [health, queryHttp, queryGrpc, otlpHttp, zipkin] = await Promise.all(Array.from({ length: 5 }, freePort));
    const ports = { health: health!, queryHttp: queryHttp!, queryGrpc: queryGrpc!, otlpHttp: otlpHttp!, zipkin: zipkin! };
    const proc = ownedProcess('jaeger');
    const config = join(proc.dir, 'jaeger.yaml');
    writeFileSync(config, stringify(configFor(ports)));
    proc.launch(binary.path, [`--config=file:${config}`]);
    const queryUrl = `http://${listen(ports.queryHttp)}`;
    const ready = await waitReady(`http://${listen(ports.health)}/status`, `${queryUrl}/api/services`, proc.hasExited, 30_000);
    if (ready !== true) {
      lastError = `${ready}\n${proc.logTail()}`;
      await proc.stop();
      if (/address already in use/.test(lastError)) continue;
      break;
    }
    return handle(binary.version, ports, queryUrl, () => proc.stop());
  }
  throw new Error(`Jaeger ${binary.path} did not start: ${lastError}`);
}

async function waitReady(healthUrl: string, queryUrl: string, exited: () => boolean, timeoutMs: number): Promise<true | string> {
  let last = '';
  for (const deadline = Date.now() + timeoutMs; Date.now() < deadline; await Bun.sleep(100)) {
    if (exited()) return 'Jaeger exited';
    try {
      const health = await fetch(healthUrl, { signal: AbortSignal.timeout(1_000) });
      await health.arrayBuffer();
      if (health.status === 200 && (await getJson(queryUrl)).status === 200) return true;
      last = `health answered ${health.status}`;
    } catch (err) {
      last = (err as Error).message;
    }
  }
  return `not ready within ${timeoutMs / 1000} s (last: ${last})`;
}

function handle(version: string, ports: Record<'otlpHttp' | 'zipkin', number>, queryUrl: string, stop: () => Promise<void>): Jaeger {
  const trace = async (traceId: string) => {
    const { status, body } = await getJson<{ data: JaegerTrace[] }>(`${queryUrl}/api/traces/${traceId}`);
    if (status === 404) return undefined;
    if (status !== 200) throw new Error(`Jaeger /api/traces/${traceId} answered ${status}`);
    return body!.data[0];
  };
  return {
    version,
    queryUrl,
    exporterEnv(protocol): Record<string, string> {
      if (protocol === 'zipkin') return { ZIPKIN_URL: `http://${listen(ports.zipkin)}/api/v2/spans` };
      return { OTEL_EXPORTER_OTLP_ENDPOINT: `http://${listen(ports.otlpHttp)}`, OTEL_EXPORTER_OTLP_PROTOCOL: 'http/protobuf' };
    },
    async services() {
      const { status, body } = await getJson<{ data: string[] | null }>(`${queryUrl}/api/services`);
      if (status !== 200) throw new Error(`Jaeger /api/services answered ${status}`);
      return body!.data ?? [];
    },
    trace,
    async findTraces(service, limit = 100) {
      const { status, body } = await getJson<{ data: JaegerTrace[] }>(`${queryUrl}/api/traces?service=${encodeURIComponent(service)}&limit=${limit}&lookback=1h`);
      if (status !== 200) throw new Error(`Jaeger /api/traces?service=${service} answered ${status}`);
      return body!.data;
    },
    async waitForTrace(traceId, done, timeoutMs = 10_000) {
      let spans = asZipkinSpans(await trace(traceId));
      for (const deadline = Date.now() + timeoutMs; !done(spans) && Date.now() < deadline; ) {
        await Bun.sleep(100);
        spans = asZipkinSpans(await trace(traceId));
      }
      return spans;
    },
    stop,
  };
}
