/**
 * The OpenTelemetry SDK's half of tracing: the tracer of one role (recording-tracer.ts) with its sampler, the SDK's batching
 * and its exporters (Zipkin, OTLP, or a test's), and the process-wide context manager. tracing.ts loads this only for a role
 * that has somewhere to send spans, so a role with tracing off never loads the SDK.
 */
import { context, SamplingDecision, trace, TraceFlags, type Context, type Sampler, type SamplingResult, type Tracer } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { ExportResultCode, type ExportResult } from '@opentelemetry/core';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { BatchSpanProcessor, TraceIdRatioBasedSampler, type ReadableSpan, type SpanExporter } from '@opentelemetry/sdk-trace-base';
import { ATTR_SERVICE_NAME, ATTR_SERVICE_VERSION } from '@opentelemetry/semantic-conventions';
import { DEFERRED } from './b3';
import type * as OtlpModule from './otlp';
import { isValidContext, RecordingTracer } from './recording-tracer';
import { RoleTracing } from './role-tracing';
import type { ExporterName, ExportReport, SpanFlusher, Tracing, TracingOptions } from './tracing';
import { zipkinExporter } from './zipkin-export';

/**
 * Batching: one POST per second or per 512 spans, whichever comes first. A second is what Zipkin's own reporters wait, and
 * keeps a trace visible almost at once; the queue bound keeps memory flat when the collector is slow or gone (spans beyond
 * it are dropped, requests never wait for the exporter).
 */
const BATCH = { scheduledDelayMillis: 1000, maxExportBatchSize: 512, maxQueueSize: 8192, exportTimeoutMillis: 5000 };
let contextManagerInstalled = false;
/** The context manager is process-wide; installing it twice would be refused (and logged) by the API. */
function installContextManager(): void {
  if (contextManagerInstalled) return;
  contextManagerInstalled = true;
  context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
}

/** The two decisions, made once: a sampler's result is only read. */
const SAMPLED: SamplingResult = Object.freeze({ decision: SamplingDecision.RECORD_AND_SAMPLED });
const NOT_SAMPLED: SamplingResult = Object.freeze({ decision: SamplingDecision.NOT_RECORD });

/**
 * Follows the caller's decision (x-b3-sampled, or x-b3-flags: 1 for debug); applies the ratio only where a trace starts or the
 * caller deferred. The SDK's ParentBasedSampler would treat a deferred B3 context as "not sampled", dropping every trace
 * whose proxy left the choice to the app.
 */
export class IncomingOrRatioSampler implements Sampler {
  private readonly ratio: TraceIdRatioBasedSampler;
  /** At a ratio of 1 every valid trace id is recorded: the tracer's own ids are valid, a caller's were checked as they were read. */
  private readonly always: boolean;

  constructor(ratio: number) {
    this.ratio = new TraceIdRatioBasedSampler(ratio);
    this.always = ratio >= 1;
  }

  shouldSample(ctx: Context, traceId: string): SamplingResult {
    const parent = trace.getSpanContext(ctx);
    if (parent && isValidContext(parent) && !(parent.isRemote && ctx.getValue(DEFERRED) === true)) {
      return parent.traceFlags & TraceFlags.SAMPLED ? SAMPLED : NOT_SAMPLED;
    }
    return this.always ? SAMPLED : this.ratio.shouldSample(ctx, traceId);
  }

  toString(): string {
    return `IncomingOrRatioSampler{${this.ratio.toString()}}`;
  }
}

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

/** The exporters the options name: the test's, or Zipkin and OTLP, each when its endpoint is set. */
function exportersOf(options: TracingOptions): [ExporterName, SpanExporter][] {
  if (options.exporter) return [['test', options.exporter]];
  const exporters: [ExporterName, SpanExporter][] = [];
  if (options.zipkinUrl) exporters.push(['zipkin', zipkinExporter(options.zipkinUrl, BATCH.exportTimeoutMillis)]);
  // Loaded here, on first use: `require` keeps createTracing synchronous, and Bun and the Node bundle both resolve it.
  if (options.otlp) exporters.push(['otlp', (require('./otlp') as typeof OtlpModule).otlpExporter(options.otlp)]);
  return exporters;
}

/** The tracer of one role (its own service.name), and what flushes and stops its processors. */
export function createProvider(options: TracingOptions): { tracer: Tracer; provider: SpanFlusher } {
  const exporters = exportersOf(options);
  installContextManager();
  const processors = exporters.map(([name, exporter]) => {
    const reported = options.onExport ? new ReportingExporter(exporter, name, options.onExport) : exporter;
    return new BatchSpanProcessor(reported, { ...BATCH });
  });
  const tracer = new RecordingTracer({
    // Only what identifies the role, and what the operator adds: Zipkin copies every resource attribute into every span's tags.
    resource: resourceFromAttributes({
      ...options.resourceAttributes,
      [ATTR_SERVICE_NAME]: options.serviceName,
      [ATTR_SERVICE_VERSION]: options.version,
    }),
    scope: { name: 'greeting-mesh', version: options.version },
    sampler: new IncomingOrRatioSampler(options.sampleRatio),
    processors,
  });
  // Each waits for every processor, as the SDK's provider does: a batch one exporter failed (reported through onExport) must
  // not cut short the other's.
  const provider: SpanFlusher = {
    forceFlush: async () => void (await Promise.allSettled(processors.map((p) => p.forceFlush()))),
    shutdown: async () => void (await Promise.allSettled(processors.map((p) => p.shutdown()))),
  };
  return { tracer, provider };
}

/** The Tracing of one role: its tracer and processors, and the propagation formats it reads and writes. */
export function createRoleTracing(options: TracingOptions): Tracing {
  const { tracer, provider } = createProvider(options);
  return new RoleTracing(tracer, provider, options.propagators);
}
