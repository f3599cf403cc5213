/**
 * Asks every upstream for its greetings at once and merges the answers in config order. A failed upstream leaves one error
 * entry where its subtree would be; an upstream that answered partially passes its subtree (and its error entries) through.
 */
import type { Upstream } from '../config/settings';
import type { GreetingEntry, HopTiming } from '../greeting';
import { requestFailed } from '../transport/failures';
import type { UpstreamAnswer, UpstreamTransport } from '../transport/upstream';

export interface FanOutResult {
  entries: GreetingEntry[];
  /** True when any subtree is missing or partial: the answer is partial. */
  degraded: boolean;
  /** Timings of the whole subtree, so the edge can show where the time went. */
  timings: HopTiming[];
  /** The upstreams that failed at this hop (failures further down were reported where they happened). */
  failed: string[];
}

export async function fanOut(transport: UpstreamTransport, upstreams: Upstream[], headers: Record<string, string>, timeoutMs: number): Promise<FanOutResult> {
  const answers = await Promise.all(upstreams.map((upstream) => callOrFail(transport, upstream, headers, timeoutMs)));
  const result: FanOutResult = { entries: [], degraded: false, timings: [], failed: [] };
  answers.forEach((answer, i) => {
    const upstream = upstreams[i]!;
    if (answer.outcome === 'failed') {
      result.degraded = true;
      result.failed.push(upstream.name);
      result.entries.push({ service: upstream.name, error: answer.reason, upstream: upstream.url });
      return;
    }
    if (answer.outcome === 'partial') result.degraded = true;
    for (const entry of answer.entries) result.entries.push(entry);
    for (const timing of answer.timings) result.timings.push(timing);
  });
  return result;
}

/**
 * Transports answer failures rather than throw; one that throws anyway (a bug, an address it cannot dial) fails its own
 * subtree, so one upstream can never turn the whole answer into a 500.
 */
async function callOrFail(transport: UpstreamTransport, upstream: Upstream, headers: Record<string, string>, timeoutMs: number): Promise<UpstreamAnswer> {
  const started = performance.now();
  try {
    return await transport.call({ upstream, headers, timeoutMs });
  } catch (err) {
    return requestFailed(err, performance.now() - started);
  }
}
