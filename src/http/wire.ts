/**
 * How a role's answer is said in HTTP, in both directions: the server writes an outcome as a status and the timings as
 * Server-Timing; the client reads an upstream's status, body and Server-Timing back into an outcome. One table, so the two
 * cannot disagree.
 */
import { greetingProblem, isUpstreamError, parseTimings, type GreetingEntry, type RoleAnswer } from '../greeting';
import { ATTR_HTTP_REQUEST_METHOD, ATTR_HTTP_RESPONSE_STATUS_CODE, ATTR_URL_FULL } from '@opentelemetry/semantic-conventions';
import { workloadName } from '../config/facts';
import type { Upstream } from '../config/settings';
import type { CallDescription, UpstreamAnswer } from '../transport/upstream';

/** The one request a role makes of another. */
export const GREETING_PATH = '/api/greeting';

export const STATUS_OF: Record<RoleAnswer['outcome'], number> = { whole: 200, partial: 502, refused: 503, failed: 500 };

/**
 * The original gRPC variant's answer as its grpc-gateway wrote it (protojson, every field emitted): the greetings in
 * `greeting`, and ours in `upstreamError`, each with its position (how many greetings come before it).
 */
export function gatewayShape(entries: GreetingEntry[]) {
  const greeting: GreetingEntry[] = [];
  const upstreamError: (GreetingEntry & { position: number })[] = [];
  for (const entry of entries) {
    if (isUpstreamError(entry)) upstreamError.push({ ...entry, position: greeting.length });
    else greeting.push({ version: '', ...entry });
  }
  return { greeting, upstreamError };
}

export interface HttpAnswer {
  status: number;
  /** The parsed JSON body, or undefined when it was not JSON. */
  body: unknown;
  serverTiming?: string | null;
}

/** What an upstream's HTTP answer means for the caller, whichever HTTP client fetched it. */
export function readAnswer({ status, body, serverTiming }: HttpAnswer, durationMs: number): UpstreamAnswer {
  const code = String(status);
  if (status === STATUS_OF.whole || status === STATUS_OF.partial) {
    const entries = asEntries(body);
    if (entries) return { outcome: status === STATUS_OF.whole ? 'whole' : 'partial', entries, timings: parseTimings(serverTiming), code, durationMs };
    if (status === STATUS_OF.whole) return { outcome: 'failed', failure: code, reason: 'answered 200 with a body that is not a greeting array', durationMs };
  }
  return { outcome: 'failed', failure: code, reason: `answered ${status}${reasonOf(body)}`, durationMs };
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

/** An incubating convention, spelled out: its constant may move between releases of the conventions package. */
const ATTR_PEER_SERVICE = 'peer.service';

/** What both HTTP clients say about a call in its CLIENT span, after OpenTelemetry's HTTP conventions. */
export const httpConventions = {
  path: GREETING_PATH,
  describe(upstream: Upstream): CallDescription {
    return {
      spanName: `GET ${GREETING_PATH}`,
      attributes: { [ATTR_HTTP_REQUEST_METHOD]: 'GET', [ATTR_URL_FULL]: `${upstream.url}${GREETING_PATH}`, [ATTR_PEER_SERVICE]: workloadName(upstream.id) },
    };
  },
  answerAttributes(_upstream: Upstream, answer: UpstreamAnswer) {
    const code = answer.outcome === 'failed' ? answer.failure : answer.code;
    return /^\d{3}$/.test(code) ? { [ATTR_HTTP_RESPONSE_STATUS_CODE]: Number(code) } : {};
  },
};
