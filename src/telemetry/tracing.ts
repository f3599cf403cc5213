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
 * collector to the other runs both for a while). The OTLP exporter is loaded only by a role that uses it (otlp.ts).
 */
import {
  context,
  isSpanContextValid,
  ROOT_CONTEXT,
  SamplingDecision,
  SpanKind,
  SpanStatusCode,
  trace,
  TraceFlags,
  type Attributes,
  type Context,
  type Sampler,
  type SamplingResult,
  type Span,
  type Tracer,
} from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { ExportResultCode, type ExportResult } from '@opentelemetry/core';
import { ZipkinExporter } from '@opentelemetry/exporter-zipkin';
import { resourceFromAttributes } from '@opentelemetry/resources';
import {
  BasicTracerProvider,
  BatchSpanProcessor,
  TraceIdRatioBasedSampler,
  type ReadableSpan,
  type SpanExporter,
} from '@opentelemetry/sdk-trace-base';
import { ATTR_SERVICE_NAME, ATTR_SERVICE_VERSION } from '@opentelemetry/semantic-conventions';
import { DEBUG, DEBUG_ROOT, DEFERRED } from './b3';
import type * as OtlpModule from './otlp';
import type { OtlpOptions } from './otlp';
import { DEFAULT_PROPAGATORS, extractContext, injectContext, type Propagator } from './propagation';
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

/**
 * Batching: one POST per second or per 512 spans, whichever comes first. A second is what Zipkin's own reporters wait, and
 * keeps a trace visible almost at once; the queue bound keeps memory flat when the collector is slow or gone (spans beyond
 * it are dropped, requests never wait for the exporter).
 */
const BATCH = { scheduledDelayMillis: 1000, maxExportBatchSize: 512, maxQueueSize: 8192, exportTimeoutMillis: 5000 };
/** Longest a stop waits for the last spans to reach the collector; the kubelet's grace period is longer. */
const FLUSH_TIMEOUT_MS = 5000;

let contextManagerInstalled = false;
/** The context manager is process-wide; installing it twice would be refused (and logged) by the API. */
function installContextManager(): void {
  if (contextManagerInstalled) return;
  contextManagerInstalled = true;
  context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
}

/**
 * Follows the caller's decision (x-b3-sampled, or x-b3-flags: 1 for debug); applies the ratio only where a trace starts or the
 * caller deferred. The SDK's ParentBasedSampler would treat a deferred B3 context as "not sampled", dropping every trace
 * whose proxy left the choice to the app.
 */
export class IncomingOrRatioSampler implements Sampler {
  private readonly ratio: TraceIdRatioBasedSampler;

  constructor(ratio: number) {
    this.ratio = new TraceIdRatioBasedSampler(ratio);
  }

  shouldSample(ctx: Context, traceId: string): SamplingResult {
    const parent = trace.getSpanContext(ctx);
    if (parent && isSpanContextValid(parent) && !(parent.isRemote && ctx.getValue(DEFERRED) === true)) {
      return { decision: parent.traceFlags & TraceFlags.SAMPLED ? SamplingDecision.RECORD_AND_SAMPLED : SamplingDecision.NOT_RECORD };
    }
    return this.ratio.shouldSample(ctx, traceId);
  }

  toString(): string {
    return `IncomingOrRatioSampler{${this.ratio.toString()}}`;
  }
}

/** Which exporter a batch went through: `zipkin`, `otlp`, or `test` for an exporter a test supplies. */
export type ExporterName = 'zipkin' | 'otlp' | 'test';
export type ExportReport = (spans: number, error: Error | undefined, exporter: ExporterName) => void;

/** Reports each batch's fate: on its own the SDK tells only OpenTelemetry's diag logger, which nobody reads. */
class ReportingExporter implements SpanExporter {
  constructor(
    private readonly inner: SpanExporter,
    private readonly name: ExporterName,
    private readonly report: ExportReport,
  ) {}

  export(spans: ReadableSpan[], done: (result: ExportResult) => void): void {
    this.inner.export(spans, (result) => {
      this.report(spans.length, result.code === ExportResultCode.SUCCESS ? undefined : (result.error ?? new Error('export failed')), this.name);
      done(result);
    });
  }

  shutdown(): Promise<void> {
    return this.inner.shutdown();
  }

  forceFlush(): Promise<void> {
    return this.inner.forceFlush?.() ?? Promise.resolve();
  }
}

/** A span and the context in which it is the active span (what code running "inside" it should see). */
export interface Scope {
  span: Span;
  ctx: Context;
}

export class Tracing {
  constructor(
    readonly tracer: Tracer,
    private readonly provider: BasicTracerProvider,
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

/** The exporters the options name: the test's, or Zipkin and OTLP, each when its endpoint is set. */
function exportersOf(options: TracingOptions): [ExporterName, SpanExporter][] {
  if (options.exporter) return [['test', options.exporter]];
  const exporters: [ExporterName, SpanExporter][] = [];
  if (options.zipkinUrl) exporters.push(['zipkin', new ZipkinExporter({ url: options.zipkinUrl })]);
  // Loaded here, on first use: `require` keeps createTracing synchronous, and Bun and the Node bundle both resolve it.
  if (options.otlp) exporters.push(['otlp', (require('./otlp') as typeof OtlpModule).otlpExporter(options.otlp)]);
  return exporters;
}

/** The Tracing of one role, or undefined when no exporter is configured: tracing off. */
export function createTracing(options: TracingOptions): Tracing | undefined {
  const exporters = exportersOf(options);
  if (exporters.length === 0) return undefined;
  installContextManager();
  const provider = new BasicTracerProvider({
    // Only what identifies the role, and what the operator adds: Zipkin copies every resource attribute into every span's tags.
    resource: resourceFromAttributes({
      ...options.resourceAttributes,
      [ATTR_SERVICE_NAME]: options.serviceName,
      [ATTR_SERVICE_VERSION]: options.version,
    }),
    sampler: new IncomingOrRatioSampler(options.sampleRatio),
    spanProcessors: exporters.map(([name, exporter]) => {
      const reported = options.onExport ? new ReportingExporter(exporter, name, options.onExport) : exporter;
      return new BatchSpanProcessor(reported, { ...BATCH });
    }),
  });
  return new Tracing(provider.getTracer('greeting-mesh', options.version), provider, options.propagators);
}
