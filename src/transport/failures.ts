/** The ways a call can come back without an answer, said the same way by every transport. */
import type { FailedAnswer } from './upstream';

export function timedOut(timeoutMs: number, durationMs: number): FailedAnswer {
  return { outcome: 'failed', failure: 'timeout', reason: `no answer within ${timeoutMs} ms`, durationMs };
}

export function requestFailed(err: unknown, durationMs: number): FailedAnswer {
  return { outcome: 'failed', failure: 'error', reason: `request failed: ${(err as Error).message}`, durationMs };
}

/** `code`: the protocol's word for the answer that came with the oversized body. */
export function tooLarge(code: string, limit: number, durationMs: number): FailedAnswer {
  return { outcome: 'failed', failure: 'too_large', reason: `answered ${code} with a body larger than ${limit} bytes (UPSTREAM_MAX_ANSWER_BYTES)`, durationMs };
}
