/**
 * Asks every upstream for its greetings at once and merges the answers in config order. A failed upstream leaves one error
 * entry where its subtree would be; an upstream that answered 502 passes its partial subtree (and its error entries) through.
 */
import type { Upstream } from '../config/settings';
import type { GreetingEntry } from '../greeting';
import type { Metrics } from '../telemetry/metrics';
import { traceUpstreamCall } from '../telemetry/spans';
import type { Tracing } from '../telemetry/tracing';
import type { UpstreamCall, UpstreamTransport } from '../transport/upstream';

export interface FanOutResult {
  entries: GreetingEntry[];
  /** True when any subtree is missing or partial: the answer is 502. */
  degraded: boolean;
  /** Server-Timing entries of the whole subtree, so the edge can show where the time went. */
  timings: string[];
  /** The upstreams that failed at this hop (failures further down were reported where they happened). */
  failed: string[];
}

export interface FanOutDeps {
  transport: UpstreamTransport;
  metrics: Metrics;
  timeoutMs: number;
  /** Present when tracing is on: every call gets a CLIENT span and carries its B3 context. */
  tracing?: Tracing;
}

export async function fanOut(deps: FanOutDeps, upstreams: Upstream[], headers: Record<string, string>): Promise<FanOutResult> {
  const { transport, tracing } = deps;
  const answers = await Promise.all(
    upstreams.map((upstream) => {
      const call = { upstream, headers, timeoutMs: deps.timeoutMs };
      return tracing ? traceUpstreamCall(tracing, call, (traced: UpstreamCall) => transport.call(traced)) : transport.call(call);
    }),
  );
  const result: FanOutResult = { entries: [], degraded: false, timings: [], failed: [] };
  answers.forEach((answer, i) => {
    const upstream = upstreams[i]!;
    deps.metrics.upstream(upstream.id, answer.outcome === 'failed' ? answer.failure : String(answer.status), answer.durationMs / 1000);
    if (answer.outcome === 'failed') {
      result.degraded = true;
      result.failed.push(upstream.name);
      result.entries.push({ service: upstream.name, error: answer.reason, upstream: upstream.url });
      return;
    }
    if (answer.outcome === 'partial') result.degraded = true;
    for (const entry of answer.entries) result.entries.push(entry);
    if (answer.serverTiming) result.timings.push(answer.serverTiming);
  });
  return result;
}
