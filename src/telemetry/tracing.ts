/**
 * The traces of one role. Each role has its own TracerProvider (service.name `service-<id>`), because the local platform
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
 * collector to the other runs both for a while). The SDK, its exporters and the context manager (tracing-sdk.ts) are loaded only
 * by a role that traces: a role with tracing off never loads them (about 10 ms and 15 MB of its start-up).
 */
import {
  context,
  ROOT_CONTEXT,
  SpanKind,
  SpanStatusCode,
  trace,
  TraceFlags,
  type Attributes,
  type Context,
  type Span,
  type Tracer,
} from '@opentelemetry/api';
import type { SpanExporter } from '@opentelemetry/sdk-trace-base';
import { DEBUG, DEBUG_ROOT } from './b3';
import type { OtlpOptions } from './otlp';
import { DEFAULT_PROPAGATORS, extractContext, injectContext, type Propagator } from './propagation';
import type * as SdkModule from './tracing-sdk';
import type { HeaderReader } from './tracing-headers';

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

/** Longest a stop waits for the last spans to reach the collector; the kubelet's grace period is longer. */
const FLUSH_TIMEOUT_MS = 5000;

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

export class Tracing {
  constructor(
    readonly tracer: Tracer,
    private readonly provider: SpanFlusher,
    readonly propagators: readonly Propagator[] = DEFAULT_PROPAGATORS,
  ) {}

  /** SERVER span of a request (HTTP headers or gRPC metadata), continuing the context it came with. */
  startServer(headers: HeaderReader, name: string, attributes: Attributes): Scope {
    return this.startRemoteChild(extractContext((header) => headers.get(header), this.propagators), name, SpanKind.SERVER, attributes);
  }

  /** CONSUMER span of a message, continuing the context the producer put in its headers. */
  startConsumer(headers: Record<string, string>, name: string, attributes: Attributes): Scope {
    return this.startRemoteChild(extractContext((header) => headers[header], this.propagators), name, SpanKind.CONSUMER, attributes);
  }

  /** A span under whatever span is active here (the request's SERVER span, the message's CONSUMER span). */
  startChild(name: string, kind: SpanKind, attributes: Attributes): Span {
    return this.tracer.startSpan(name, { kind, attributes }, context.active());
  }

  /**
   * The headers for a call made inside `span`: the forwarded ones (x-request-id, x-ot-span-context) with every propagation
   * header replaced by the span's own, so the callee's span becomes a child of this one and not of our caller's.
   */
  headersFor(span: Span, forwarded: Record<string, string>): Record<string, string> {
    const parentId = (span as { parentSpanContext?: { spanId: string } }).parentSpanContext?.spanId;
    return injectContext(span.spanContext(), parentId, context.active().getValue(DEBUG) === true, forwarded, this.propagators);
  }

  /** Sends every finished span now instead of at the next batch. */
  flush(): Promise<void> {
    return this.provider.forceFlush();
  }

  /** Sends every finished span, then stops; bounded, so a dead collector cannot hold up a shutdown. */
  async shutdown(): Promise<void> {
    let timer: ReturnType<typeof setTimeout> | undefined;
    const timeout = new Promise<void>((resolve) => (timer = setTimeout(resolve, FLUSH_TIMEOUT_MS)));
    await Promise.race([this.provider.forceFlush().then(() => this.provider.shutdown()), timeout]).catch(() => undefined);
    clearTimeout(timer);
  }

  private startRemoteChild(parent: Context, name: string, kind: SpanKind, attributes: Attributes): Scope {
    const span = this.tracer.startSpan(name, { kind, attributes }, parent);
    // The code inside sees only this span (and debug, which must travel on), not the caller's context.
    return { span, ctx: trace.setSpan(parent.getValue(DEBUG) === true ? DEBUG_ROOT : ROOT_CONTEXT, span) };
  }
}

export function isSampled(span: Span): boolean {
  return (span.spanContext().traceFlags & TraceFlags.SAMPLED) === TraceFlags.SAMPLED;
}

/** Marks a span failed; the reason shows as Zipkin's `error` tag. */
export function failSpan(span: Span, reason: string, errorType?: string): void {
  span.setStatus({ code: SpanStatusCode.ERROR, message: reason });
  if (errorType) span.setAttribute('error.type', errorType);
}

/** The Tracing of one role, or undefined when no exporter is configured: tracing off, and the SDK never loaded. */
export function createTracing(options: TracingOptions): Tracing | undefined {
  if (!options.exporter && !options.zipkinUrl && !options.otlp) return undefined;
  // Loaded here, on first use: `require` keeps createTracing synchronous, and Bun and the Node bundle both resolve it.
  const { tracer, provider } = (require('./tracing-sdk') as typeof SdkModule).createProvider(options);
  return new Tracing(tracer, provider, options.propagators);
}
