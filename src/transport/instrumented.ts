/**
 * Telemetry around any transport, put on once where a role is assembled: a latency histogram per upstream and outcome (with
 * the request's trace as exemplar), and,
 * with tracing on, a CLIENT span per call whose context the callee receives. Fan-out code calls a plain transport and never
 * asks whether tracing is on.
 */
import { requestContext } from '../telemetry/log';
import type { Metrics } from '../telemetry/metrics';
import { failSpan, SPAN_KIND, type Tracing } from '../telemetry/tracing';
import type { UpstreamAnswer, UpstreamCall, UpstreamTransport } from './upstream';

const labelOf = (answer: UpstreamAnswer) => (answer.outcome === 'failed' ? answer.failure : answer.code);

export function meteredTransport(inner: UpstreamTransport, metrics: Metrics): UpstreamTransport {
  return {
    describe: (upstream) => inner.describe(upstream),
    answerAttributes: (upstream, answer) => inner.answerAttributes(upstream, answer),
    async call(call) {
      const answer = await inner.call(call);
      // The call belongs to the request being served: its recorded trace is the exemplar of the call's latency bucket.
      metrics.upstream(call.upstream.id, labelOf(answer), answer.durationMs / 1000, requestContext.getStore()?.recordedTrace);
      return answer;
    },
  };
}

export function tracedTransport(inner: UpstreamTransport, tracing: Tracing): UpstreamTransport {
  return {
    describe: (upstream) => inner.describe(upstream),
    answerAttributes: (upstream, answer) => inner.answerAttributes(upstream, answer),
    async call(call: UpstreamCall) {
      const { spanName, attributes } = inner.describe(call.upstream);
      const span = tracing.startChild(spanName, SPAN_KIND.CLIENT, attributes);
      try {
        const answer = await inner.call({ ...call, headers: tracing.headersFor(span, call.headers) });
        span.setAttributes(inner.answerAttributes(call.upstream, answer));
        if (answer.outcome === 'failed') failSpan(span, answer.reason, answer.failure);
        else if (answer.outcome === 'partial') failSpan(span, `answered ${answer.code} with a partial subtree`, answer.code);
        return answer;
      } catch (err) {
        failSpan(span, (err as Error).message, 'error');
        throw err;
      } finally {
        span.end();
      }
    },
  };
}
