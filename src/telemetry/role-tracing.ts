/**
 * The tracing of a role that traces: SERVER, CONSUMER and child spans through the OpenTelemetry API, the context each call and
 * message carries (propagation.ts), flush and stop. Loaded with tracing-sdk.ts, only by a role that has somewhere to send spans.
 */
import { context, ROOT_CONTEXT, SpanKind, trace, type Attributes, type Context, type Span, type Tracer } from '@opentelemetry/api';
import { DEBUG, DEBUG_ROOT } from './b3';
import { DEFAULT_PROPAGATORS, extractContext, injectContext, type Propagator } from './propagation';
import type { Scope, SpanFlusher, Tracing } from './tracing';
import type { HeaderReader } from './tracing-headers';

/** Longest a stop waits for the last spans to reach the collector; the kubelet's grace period is longer. */
const FLUSH_TIMEOUT_MS = 5000;

export class RoleTracing implements Tracing {
  constructor(
    readonly tracer: Tracer,
    private readonly provider: SpanFlusher,
    readonly propagators: readonly Propagator[] = DEFAULT_PROPAGATORS,
  ) {}

  startServer(headers: HeaderReader, name: string, attributes: Attributes): Scope {
    return this.startRemoteChild(extractContext((header) => headers.get(header), this.propagators), name, SpanKind.SERVER, attributes);
  }

  startConsumer(headers: Record<string, string>, name: string, attributes: Attributes): Scope {
    return this.startRemoteChild(extractContext((header) => headers[header], this.propagators), name, SpanKind.CONSUMER, attributes);
  }

  startChild(name: string, kind: SpanKind, attributes: Attributes): Span {
    return this.tracer.startSpan(name, { kind, attributes }, context.active());
  }

  /** The forwarded headers that no format owns (x-request-id, x-ot-span-context), and the span's context in each format. */
  headersFor(span: Span, forwarded: Record<string, string>): Record<string, string> {
    const parentId = (span as { parentSpanContext?: { spanId: string } }).parentSpanContext?.spanId;
    return injectContext(span.spanContext(), parentId, context.active().getValue(DEBUG) === true, forwarded, this.propagators);
  }

  within<T>(ctx: Context, work: () => T): T {
    return context.with(ctx, work);
  }

  flush(): Promise<void> {
    return this.provider.forceFlush();
  }

  /** Bounded by FLUSH_TIMEOUT_MS, whether or not the collector answers. */
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
