/**
 * The one seam between a role and its upstreams. A role asks for an upstream's greetings and gets an answer that says what
 * happened, not how a protocol says it; it never sees HTTP or gRPC. Each transport (HTTP, gRPC) implements this interface,
 * and decorators (call-limit.ts, instrumented.ts) wrap any of them.
 */
import type { Attributes } from '@opentelemetry/api';
import type { Upstream } from '../config/settings';
import type { GreetingEntry, HopTiming } from '../greeting';

export type UpstreamAnswer =
  /**
   * The upstream answered with its whole subtree (`partial`: it answered, but part of its subtree failed). `code` is the
   * protocol's word for it ('200', '502', 'OK', 'UNAVAILABLE'), for metrics and spans.
   */
  | { outcome: 'whole' | 'partial'; entries: GreetingEntry[]; timings: HopTiming[]; code: string; durationMs: number }
  /**
   * No usable answer. `failure` labels it for metrics: the protocol's code when the upstream answered one (a status), else
   * `timeout`, `error` (no answer at all), `too_large` or `overloaded` (never sent: no call slot). `reason` is what callers show.
   */
  | { outcome: 'failed'; failure: string; reason: string; durationMs: number };

export type FailedAnswer = Extract<UpstreamAnswer, { outcome: 'failed' }>;

export interface UpstreamCall {
  upstream: Upstream;
  /** Headers (or metadata) to forward: the tracing headers, with whatever the tracer injects. */
  headers: Record<string, string>;
  timeoutMs: number;
}

/** How the CLIENT span of a call is named and tagged, after the semantic conventions of the transport's protocol. */
export interface CallDescription {
  spanName: string;
  attributes: Attributes;
}

export interface UpstreamTransport {
  call(call: UpstreamCall): Promise<UpstreamAnswer>;
  describe(upstream: Upstream): CallDescription;
  /** The span attributes an answer adds (its status code, in the protocol's attribute). */
  answerAttributes(upstream: Upstream, answer: UpstreamAnswer): Attributes;
}
