/**
 * The tracer of one role: OpenTelemetry's Tracer and Span interfaces, recording into the SDK's span processors (the batch
 * processor and the exporters behind it take these spans as they take the SDK's own). It stands where the SDK's
 * BasicTracerProvider stood because, with every request traced, the SDK's span bookkeeping was about a tenth of a traced
 * role's CPU in a profile of the chain: each span's attributes checked twice, its links copied, two metric updates (spans
 * started, spans live), the parent's 48 hex digits checked twice, times converted through several helpers. In one process a
 * server span with a child costs 0.49 µs per span here against 0.82 through the SDK's tracer (with the same sampler); in
 * the chain, tracing on went from 57% to 59.7-62% of tracing off (`npm run bench -- --tracing off,on --rounds 3`).
 * What the roles use behaves as the SDK's does, which `recording-tracer.test.ts` checks side by side: attribute values checked
 * and limited in number, status rules, one end, events, links, exceptions, the sampler's decision and trace state, a
 * non-recording span when not sampled, nothing under suppressed tracing, the same Zipkin and OTLP serialisation.
 */
import { context, INVALID_SPAN_CONTEXT, SpanKind, SpanStatusCode, trace, TraceFlags, type Attributes, type AttributeValue, type Context, type Exception, type HrTime, type Link, type Span, type SpanAttributes, type SpanContext, type SpanOptions, type SpanStatus, type TimeInput, type Tracer } from '@opentelemetry/api';
import { isAttributeValue, isTracingSuppressed, sanitizeAttributes, type InstrumentationScope } from '@opentelemetry/core';
import type { Resource } from '@opentelemetry/resources';
import { SamplingDecision, type ReadableSpan, type Sampler, type SpanProcessor, type TimedEvent } from '@opentelemetry/sdk-trace-base';
import { ATTR_EXCEPTION_MESSAGE, ATTR_EXCEPTION_STACKTRACE, ATTR_EXCEPTION_TYPE } from '@opentelemetry/semantic-conventions';

/** The SDK's defaults (OTEL_SPAN_*_COUNT_LIMIT): beyond these, attributes are dropped and the oldest events and links give way. */
export const LIMITS = { attributes: 128, events: 128, links: 128 };

/** Random bytes drawn 4 KB at a time: one call into the runtime per 170 spans instead of one per id. */
const pool = new Uint8Array(4096);
const poolHex = Buffer.from(pool.buffer);
let taken = pool.length;

/** A random id of `bytes` bytes as lowercase hex, never all zeros (an invalid id in W3C and B3 alike). */
export function randomId(bytes: number): string {
  for (;;) {
    if (taken + bytes > pool.length) {
      crypto.getRandomValues(pool);
      taken = 0;
    }
    const start = taken;
    taken += bytes;
    for (let i = start; i < taken; i++) if (pool[i] !== 0) return poolHex.toString('hex', start, taken);
  }
}

/**
 * Span contexts this tracer made carry this mark: their ids are valid by construction, so a child's start (and the sampler)
 * need not check their 48 hex digits again, which was a quarter of a span's cost. A context from anywhere else (a caller's
 * headers, another tracer) is checked in full.
 */
const MADE_HERE = Symbol('greeting-mesh span context');

/** trace.isSpanContextValid, answered at once for a context this tracer made. */
export function isValidContext(spanContext: SpanContext): boolean {
  return (spanContext as { [MADE_HERE]?: true })[MADE_HERE] === true || trace.isSpanContextValid(spanContext);
}

const toHrTime = (ms: number): HrTime => {
  const seconds = Math.floor(ms / 1000);
  const nanos = Math.round((ms - seconds * 1000) * 1e6);
  return nanos >= 1e9 ? [seconds + 1, nanos - 1e9] : [seconds, nanos];
};

export interface RecordingTracerOptions {
  resource: Resource;
  scope: InstrumentationScope;
  sampler: Sampler;
  processors: SpanProcessor[];
}

export class RecordingTracer implements Tracer {
  constructor(private readonly options: RecordingTracerOptions) {}

  startSpan(name: string, spanOptions: SpanOptions = {}, parentContext: Context = context.active()): Span {
    // A root span is asked for: the sampler must not see the context's span as its parent either.
    const ctx = spanOptions.root ? trace.deleteSpan(parentContext) : parentContext;
    if (isTracingSuppressed(ctx)) return trace.wrapSpanContext(INVALID_SPAN_CONTEXT);
    const parent = trace.getSpanContext(ctx);
    const validParent = parent && isValidContext(parent) ? parent : undefined;
    const traceId = validParent?.traceId ?? randomId(16);
    const kind = spanOptions.kind ?? SpanKind.INTERNAL;
    const links = spanOptions.links ?? [];
    const decision = this.options.sampler.shouldSample(ctx, traceId, name, kind, spanOptions.attributes ?? {}, links);
    const spanContext: SpanContext & { [MADE_HERE]: true } = {
      traceId,
      spanId: randomId(8),
      traceFlags: decision.decision === SamplingDecision.RECORD_AND_SAMPLED ? TraceFlags.SAMPLED : TraceFlags.NONE,
      traceState: decision.traceState ?? validParent?.traceState,
      [MADE_HERE]: true,
    };
    if (decision.decision === SamplingDecision.NOT_RECORD) return trace.wrapSpanContext(spanContext);
    const span = new RecordedSpan(this.options, spanContext, validParent, name, kind, spanOptions.startTime);
    if (spanOptions.attributes) span.setAttributes(spanOptions.attributes);
    if (decision.attributes) span.setAttributes(decision.attributes);
    for (const link of links) span.addLink(link);
    for (const processor of this.options.processors) processor.onStart(span, ctx);
    return span;
  }

  startActiveSpan<F extends (span: Span) => unknown>(name: string, ...args: unknown[]): ReturnType<F> {
    const fn = args.pop() as F;
    const [spanOptions, ctx] = args as [SpanOptions | undefined, Context | undefined];
    const parent = ctx ?? context.active();
    const span = this.startSpan(name, spanOptions, parent);
    return context.with(trace.setSpan(parent, span), fn as (span: Span) => ReturnType<F>, undefined, span);
  }
}

class RecordedSpan implements Span, ReadableSpan {
  attributes: Attributes = {};
  status: SpanStatus = { code: SpanStatusCode.UNSET };
  readonly startTime: HrTime;
  endTime: HrTime = [0, 0];
  duration: HrTime = [-1, -1];
  ended = false;
  readonly links: Link[] = [];
  readonly events: TimedEvent[] = [];
  droppedAttributesCount = 0;
  droppedEventsCount = 0;
  droppedLinksCount = 0;
  readonly resource: Resource;
  readonly instrumentationScope: InstrumentationScope;
  private attributeCount = 0;
  /** Wall-clock start (ms) and the monotonic clock then: times within the span come from the latter, so a clock step cannot make a span negative. */
  private readonly startMs: number;
  private readonly startedAt: number;

  constructor(
    private readonly owner: RecordingTracerOptions,
    private readonly context: SpanContext,
    readonly parentSpanContext: SpanContext | undefined,
    public name: string,
    readonly kind: SpanKind,
    startTime: TimeInput | undefined,
  ) {
    this.startedAt = performance.now();
    this.startMs = startTime === undefined ? Date.now() : msOf(startTime, this.startedAt);
    this.startTime = toHrTime(this.startMs);
    this.resource = owner.resource;
    this.instrumentationScope = owner.scope;
  }

  spanContext(): SpanContext {
    return this.context;
  }

  setAttribute(key: string, value: SpanAttributes[string]): this {
    if (value == null || this.ended || key.length === 0 || !isAttributeValue(value)) return this;
    const isNew = !Object.prototype.hasOwnProperty.call(this.attributes, key);
    if (isNew && this.attributeCount >= LIMITS.attributes) {
      this.droppedAttributesCount++;
      return this;
    }
    (this.attributes as Record<string, AttributeValue>)[key] = value;
    if (isNew) this.attributeCount++;
    return this;
  }

  setAttributes(attributes: SpanAttributes): this {
    for (const key in attributes) if (Object.prototype.hasOwnProperty.call(attributes, key)) this.setAttribute(key, attributes[key]);
    return this;
  }

  addEvent(name: string, attributesOrTime?: SpanAttributes | TimeInput, time?: TimeInput): this {
    if (this.ended) return this;
    const isTime = attributesOrTime instanceof Date || typeof attributesOrTime === 'number' || Array.isArray(attributesOrTime);
    const at = isTime ? (time ?? (attributesOrTime as TimeInput)) : time;
    if (this.events.length >= LIMITS.events) {
      this.events.shift();
      this.droppedEventsCount++;
    }
    this.events.push({ name, attributes: sanitizeAttributes(isTime ? undefined : attributesOrTime), time: toHrTime(this.msAt(at)), droppedAttributesCount: 0 });
    return this;
  }

  addLink(link: Link): this {
    if (this.ended) return this;
    if (this.links.length >= LIMITS.links) {
      this.links.shift();
      this.droppedLinksCount++;
    }
    const attributes = sanitizeAttributes(link.attributes);
    this.links.push(Object.keys(attributes).length > 0 ? { context: link.context, attributes } : { context: link.context });
    return this;
  }

  addLinks(links: Link[]): this {
    for (const link of links) this.addLink(link);
    return this;
  }

  setStatus(status: SpanStatus): this {
    // As the specification has it: UNSET changes nothing, and OK is final.
    if (this.ended || status.code === SpanStatusCode.UNSET || this.status.code === SpanStatusCode.OK) return this;
    this.status = status.code === SpanStatusCode.ERROR && typeof status.message === 'string' ? { code: status.code, message: status.message } : { code: status.code };
    return this;
  }

  updateName(name: string): this {
    if (!this.ended) this.name = name;
    return this;
  }

  end(endTime?: TimeInput): void {
    if (this.ended) return;
    const endMs = Math.max(this.startMs, this.msAt(endTime));
    this.endTime = toHrTime(endMs);
    this.duration = toHrTime(endMs - this.startMs);
    this.ended = true;
    for (const processor of this.owner.processors) processor.onEnd(this);
  }

  isRecording(): boolean {
    return !this.ended;
  }

  recordException(exception: Exception, time?: TimeInput): void {
    const attributes: Attributes = {};
    if (typeof exception === 'string') attributes[ATTR_EXCEPTION_MESSAGE] = exception;
    else if (exception) {
      if (exception.code) attributes[ATTR_EXCEPTION_TYPE] = String(exception.code);
      else if (exception.name) attributes[ATTR_EXCEPTION_TYPE] = exception.name;
      if (exception.message) attributes[ATTR_EXCEPTION_MESSAGE] = exception.message;
      if (exception.stack) attributes[ATTR_EXCEPTION_STACKTRACE] = exception.stack;
    }
    if (attributes[ATTR_EXCEPTION_TYPE] || attributes[ATTR_EXCEPTION_MESSAGE]) this.addEvent('exception', attributes, time);
  }

  /** A moment given (or now) as wall-clock ms; now is the start plus the monotonic time since. */
  private msAt(time: TimeInput | undefined): number {
    return time === undefined ? this.startMs + (performance.now() - this.startedAt) : msOf(time, performance.now());
  }
}

/** A TimeInput as wall-clock ms: an HrTime, a Date, epoch ms, or (a number below the monotonic clock) a performance.now() reading. */
function msOf(time: TimeInput, monotonicNow: number): number {
  if (Array.isArray(time)) return time[0] * 1000 + time[1] / 1e6;
  if (time instanceof Date) return time.getTime();
  return time <= monotonicNow ? time + (Date.now() - monotonicNow) : time;
}
