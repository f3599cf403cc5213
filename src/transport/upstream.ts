/**
 * The one seam between a role and its upstreams. A role asks for an upstream's greetings and gets an answer; it never sees
 * HTTP. A second transport (the gRPC variant) implements this interface and the roles stay as they are.
 */
import type { Upstream } from '../config/settings';
import type { GreetingEntry } from '../greeting';

export type UpstreamAnswer =
  /** The upstream answered with its whole subtree (`partial`: it answered, but its own subtree had failures). */
  | { outcome: 'ok' | 'partial'; entries: GreetingEntry[]; status: number; durationMs: number; serverTiming?: string }
  /** No usable answer: `failure` is what the metrics label says (a status, `timeout` or `error`), `reason` what the caller shows. */
  | { outcome: 'failed'; reason: string; failure: string; durationMs: number };

export type FailedAnswer = Extract<UpstreamAnswer, { outcome: 'failed' }>;

export interface UpstreamCall {
  upstream: Upstream;
  /** Headers to forward (the tracing headers and whatever the tracer injects). */
  headers: Record<string, string>;
  timeoutMs: number;
}

export interface UpstreamTransport {
  call(call: UpstreamCall): Promise<UpstreamAnswer>;
}
