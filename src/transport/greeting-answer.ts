/** What an upstream's HTTP answer means for the caller, whichever HTTP client fetched it. */
import { greetingProblem, isUpstreamError, type GreetingEntry } from '../greeting';
import type { FailedAnswer, UpstreamAnswer } from './upstream';

export interface HttpAnswer {
  status: number;
  /** The parsed JSON body, or undefined when it was not JSON. */
  body: unknown;
  serverTiming?: string;
}

export function interpret({ status, body, serverTiming }: HttpAnswer, durationMs: number): UpstreamAnswer {
  const failure = String(status);
  if (status === 200 || status === 502) {
    const entries = asEntries(body);
    if (entries) return { outcome: status === 200 ? 'ok' : 'partial', entries, status, durationMs, serverTiming };
    if (status === 200) return { outcome: 'failed', failure, reason: 'answered 200 with a body that is not a greeting array', durationMs };
  }
  return { outcome: 'failed', failure, reason: `answered ${status}${reasonOf(body)}`, durationMs };
}

export function timedOut(timeoutMs: number, durationMs: number): FailedAnswer {
  return { outcome: 'failed', failure: 'timeout', reason: `no answer within ${timeoutMs} ms`, durationMs };
}

export function tooLarge(status: number, limit: number, durationMs: number): FailedAnswer {
  return { outcome: 'failed', failure: 'too_large', reason: `answered ${status} with a body larger than ${limit} bytes (UPSTREAM_MAX_ANSWER_BYTES)`, durationMs };
}

export function requestFailed(err: unknown, durationMs: number): FailedAnswer {
  return { outcome: 'failed', failure: 'error', reason: `request failed: ${(err as Error).message}`, durationMs };
}

function asEntries(body: unknown): GreetingEntry[] | undefined {
  if (!Array.isArray(body)) return undefined;
  return body.every((e) => isUpstreamError(e) || greetingProblem(e) === undefined) ? (body as GreetingEntry[]) : undefined;
}

/** The upstream's own explanation (`{"error": ...}`), when it gave one. */
function reasonOf(body: unknown): string {
  const error = (body as { error?: unknown } | undefined)?.error;
  return typeof error === 'string' ? `: ${error}` : '';
}
