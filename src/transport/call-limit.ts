/**
 * A role's own budget of upstream calls in flight, which also bounds the connections it opens to its upstreams. Bun's fetch
 * (the client of `https://` upstreams; `http://` ones go over the role's own sockets) has one cap per process on requests in
 * flight (BUN_CONFIG_MAX_HTTP_REQUESTS, 256 by default) and queues the rest in one FIFO. When several roles share a process (the
 * local platform), A's calls could fill that queue while the calls B and E need to make to answer A wait behind them: nothing
 * completes until the timeouts fire. Giving each role a slice of the cap, and queueing its excess calls here, in its own queue,
 * makes that impossible: a role waits only for its own calls, which its upstreams can always answer.
 *
 * Time spent waiting for a slot counts against the call's deadline, and a queue that is full refuses at once, naming the
 * limit, instead of letting callers wait out a timeout.
 */
import { timedOut } from './failures';
import type { UpstreamAnswer, UpstreamCall, UpstreamTransport } from './upstream';

/** Calls that may wait per slot before new ones are refused: deep enough for any burst, bounded so memory is. */
export const WAITING_PER_SLOT = 100;

const ENTERED = Promise.resolve(true);

export class CallLimiter {
  private inFlight = 0;
  /** FIFO of callers waiting for a slot; a Set, so one that gives up leaves in O(1). */
  private readonly waiting = new Set<() => void>();

  constructor(
    readonly limit: number,
    readonly maxWaiting = limit * WAITING_PER_SLOT,
  ) {}

  /**
   * Resolves true once a slot is held (give it back with `release`), false when `timeoutMs` passed first; undefined at once
   * when the wait queue is full.
   */
  enter(timeoutMs: number): Promise<boolean> | undefined {
    if (this.inFlight < this.limit) {
      this.inFlight++;
      return ENTERED;
    }
    if (this.waiting.size >= this.maxWaiting) return undefined;
    return new Promise<boolean>((resolve) => {
      const grant = () => {
        clearTimeout(timer);
        resolve(true);
      };
      const timer = setTimeout(() => {
        this.waiting.delete(grant);
        resolve(false);
      }, timeoutMs);
      this.waiting.add(grant);
    });
  }

  /** Gives a slot up: to the longest waiting caller, if any. */
  release(): void {
    const next = this.waiting.values().next();
    if (next.done) this.inFlight--;
    else {
      this.waiting.delete(next.value);
      next.value();
    }
  }
}

/** `inner`, with at most `limiter.limit` calls in flight; the rest wait their turn within their own deadline. */
export function limitCalls(inner: UpstreamTransport, limiter: CallLimiter): UpstreamTransport {
  return {
    describe: (upstream) => inner.describe(upstream),
    answerAttributes: (upstream, answer) => inner.answerAttributes(upstream, answer),
    async call(call: UpstreamCall): Promise<UpstreamAnswer> {
      const started = performance.now();
      const entered = limiter.enter(call.timeoutMs);
      if (!entered)
        return {
          outcome: 'failed',
          failure: 'overloaded',
          reason: `not called: ${limiter.limit} calls in flight and ${limiter.maxWaiting} waiting (UPSTREAM_MAX_IN_FLIGHT)`,
          durationMs: 0,
        };
      if (!(await entered)) {
        const answer = timedOut(call.timeoutMs, performance.now() - started);
        return { ...answer, reason: `${answer.reason} (all of it spent waiting for one of ${limiter.limit} call slots: UPSTREAM_MAX_IN_FLIGHT)` };
      }
      try {
        const waited = performance.now() - started;
        if (waited < 1) return await inner.call(call);
        const answer = await inner.call({ ...call, timeoutMs: Math.max(1, call.timeoutMs - waited) });
        return { ...answer, durationMs: answer.durationMs + waited };
      } finally {
        limiter.release();
      }
    },
  };
}
