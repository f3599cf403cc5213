/**
 * The traces of one role. Each role has its own tracer (service.name `service-<id>`), because the local platform
 * runs all roles in one process and every span must name the role that made it; the tracer reaches the code through deps,
 * never through the global provider. What is process-wide is harmless to share: the AsyncLocalStorage context manager
 * (which span is active in this async flow). Propagation is W3C Trace Context and B3 multi-header (propagation.ts).
 *
 * Auto-instrumentation does not see Bun's fetch or Bun.serve, so spans are made where a role meets the outside: around each
 * request (serving/request.ts), each upstream call (transport/instrumented.ts), each store operation and message
 * (backends/instrumented.ts). With no exporter configured (ZIPKIN_URL, OTEL_EXPORTER_OTLP_ENDPOINT) there is no Tracing
 * object at all: those decorators are left out where the role is assembled, so tracing off costs nothing on the request path.
 *
 * Spans go to Zipkin (v2 JSON), to an OTLP/HTTP receiver (protobuf), or to both (each gets every span: a migration from one
 * collector to the other runs both for a while). The OpenTelemetry API, the SDK, its exporters and the context manager
 * (role-tracing.ts, tracing-sdk.ts) are loaded only by a role that traces: a role with tracing off never loads them (about
 * 10 ms and 15 MB of its start-up; the API alone, measured in the role, 1.7-1.9 ms). So this file imports only the API's
 * types, and spells out the few values the decorators need (span kinds, the error status), which the specification fixes.
 */
import type { Attributes, Context, Span, SpanKind, SpanStatusCode, Tracer } from '@opentelemetry/api';
import type { SpanExporter } from '@opentelemetry/sdk-trace-base';
import type { OtlpOptions } from './otlp';
import type { Propagator } from './propagation';
import type * as SdkModule from './tracing-sdk';
import type { HeaderReader } from './tracing-headers';
import { SAMPLED_FLAG } from './w3c';

export interface TracingOptions {
  /** `service-<id>`: the name Zipkin shows, the same as the Kubernetes Service and the `app` label. */
  serviceName: string;
  version: string;
  /** Zipkin v2 span endpoint (e.g. http://zipkin.istio-system:9411/api/v2/spans). */
  zipkinUrl?: string;
  /** An OTLP/HTTP traces endpoint, its headers and timeout (OTEL_EXPORTER_OTLP_*). */
  otlp?: OtlpOptions;
  /** Share of new traces recorded when no upstream decided (0..1). */
  sampleRatio: number;
  /** The formats read from callers and written to callees, in precedence order (OTEL_PROPAGATORS). */
  propagators?: readonly Propagator[];
  /** Attributes added to the resource (OTEL_RESOURCE_ATTRIBUTES); service.name and service.version stay the role's. */
  resourceAttributes?: Record<string, string>;
  /** Where spans go instead of Zipkin or OTLP (tests). */
  exporter?: SpanExporter;
  /** Told how every batch fared (`error` when the collector did not take it), so lost spans show in metrics and logs. */
  onExport?: ExportReport;
}

/** Which exporter a batch went through: `zipkin`, `otlp`, or `test` for an exporter a test supplies. */
export type ExporterName = 'zipkin' | 'otlp' | 'test';
export type ExportReport = (spans: number, error: Error | undefined, exporter: ExporterName) => void;

/** What Tracing needs of the SDK's provider: sending what is finished, and stopping. */
export interface SpanFlusher {
  forceFlush(): Promise<void>;
  shutdown(): Promise<void>;
}

/** A span and the context in which it is the active span (what code running "inside" it should see). */
export interface Scope {
  span: Span;
  ctx: Context;
}

/** The tracing of a role that traces (role-tracing.ts): its spans, and what goes to each call and message. */
export interface Tracing {
  readonly tracer: Tracer;
  readonly propagators: readonly Propagator[];
  /** SERVER span of a request (HTTP headers or gRPC metadata), continuing the context it came with. */
  startServer(headers: HeaderReader, name: string, attributes: Attributes): Scope;
  /** CONSUMER span of a message, continuing the context the producer put in its headers. */
  startConsumer(headers: Record<string, string>, name: string, attributes: Attributes): Scope;
  /** A span under whatever span is active here (the request's SERVER span, the message's CONSUMER span). */
  startChild(name: string, kind: SpanKind, attributes: Attributes): Span;
  /** Runs `work` with `ctx` as the active context (a Scope's), so the spans started inside are its children. */
  within<T>(ctx: Context, work: () => T): T;
  /** The headers for a call made inside `span`, carrying its context in each propagation format. */
  headersFor(span: Span, forwarded: Record<string, string>): Record<string, string>;
  /** Sends every finished span now instead of at the next batch. */
  flush(): Promise<void>;
  /** Sends every finished span, then stops; bounded, so a dead collector cannot hold up a shutdown. */
  shutdown(): Promise<void>;
}

/** OpenTelemetry's span kinds the decorators make, as the specification numbers them (tracing.test.ts holds them to the API's). */
export const SPAN_KIND = { SERVER: 1 as SpanKind, CLIENT: 2 as SpanKind, PRODUCER: 3 as SpanKind, CONSUMER: 4 as SpanKind };
const STATUS_ERROR = 2 as SpanStatusCode;

export function isSampled(span: Span): boolean {
  return (span.spanContext().traceFlags & SAMPLED_FLAG) === SAMPLED_FLAG;
}

/** Marks a span failed; the reason shows as Zipkin's `error` tag. */
export function failSpan(span: Span, reason: string, errorType?: string): void {
  span.setStatus({ code: STATUS_ERROR, message: reason });
  if (errorType) span.setAttribute('error.type', errorType);
}

/** The Tracing of one role, or undefined when no exporter is configured: tracing off, and neither the API nor the SDK loaded. */
export function createTracing(options: TracingOptions): Tracing | undefined {
  if (!options.exporter && !options.zipkinUrl && !options.otlp) return undefined;
  // Loaded here, on first use: `require` keeps createTracing synchronous, and Bun and the Node bundle both resolve it.
  return (require('./tracing-sdk') as typeof SdkModule).createRoleTracing(options);
}
