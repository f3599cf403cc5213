/**
 * The trace a caller's headers name, for the log lines of work that is not traced here (tracing off, or an untraced path):
 * B3's ids, else traceparent's. Apart from propagation.ts because a role with tracing off loads it, and no OpenTelemetry API.
 */
import { extractW3C, SAMPLED_FLAG } from './w3c';

type Get = (name: string) => string | null | undefined;

export interface IncomingTrace {
  traceId: string;
  spanId?: string;
  /** The caller marked it not sampled: no collector records it, so nothing should link to it. */
  notSampled: boolean;
}

export function incomingTrace(get: Get): IncomingTrace | undefined {
  const b3 = get('x-b3-traceid');
  if (b3) return { traceId: b3, spanId: get('x-b3-spanid') ?? undefined, notSampled: get('x-b3-sampled') === '0' };
  const w3c = extractW3C(get);
  if (w3c) return { traceId: w3c.traceId, spanId: w3c.spanId, notSampled: (w3c.traceFlags & SAMPLED_FLAG) === 0 };
  return undefined;
}
