/**
 * Calls an upstream's `GET /api/greeting` over HTTP/1.1. `fetch` pools keep-alive connections per origin, so a hop costs no
 * new TCP handshake; each call has its own deadline, so one slow upstream cannot hold its siblings' answers.
 */
import { greetingProblem, isUpstreamError, type GreetingEntry } from '../greeting';
import type { UpstreamAnswer, UpstreamCall, UpstreamTransport } from './upstream';

export class HttpUpstreamTransport implements UpstreamTransport {
  async call({ upstream, headers, timeoutMs }: UpstreamCall): Promise<UpstreamAnswer> {
    const started = performance.now();
    const elapsed = () => performance.now() - started;
    // One deadline for the answer and its body, cleared as soon as the call is over: AbortSignal.timeout would leave a live
    // timer per call for the whole timeout (10 s), hundreds of thousands of them under load.
    const deadline = new AbortController();
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      deadline.abort();
    }, timeoutMs);
    const timeout = (): UpstreamAnswer => ({ outcome: 'failed', failure: 'timeout', reason: `no answer within ${timeoutMs} ms`, durationMs: elapsed() });
    let response: Response;
    let body: unknown;
    try {
      response = await fetch(`${upstream.url}/api/greeting`, { headers: { accept: 'application/json', ...headers }, signal: deadline.signal });
      body = await response.json().catch(() => undefined);
    } catch (err) {
      if (timedOut) return timeout();
      return { outcome: 'failed', failure: 'error', reason: `request failed: ${(err as Error).message}`, durationMs: elapsed() };
    } finally {
      clearTimeout(timer);
    }
    if (timedOut) return timeout();
    const durationMs = elapsed();
    const failure = String(response.status);
    if (response.status === 200 || response.status === 502) {
      const entries = asEntries(body);
      if (entries) {
        return {
          outcome: response.status === 200 ? 'ok' : 'partial',
          entries,
          status: response.status,
          durationMs,
          serverTiming: response.headers.get('server-timing') ?? undefined,
        };
      }
      if (response.status === 200) return { outcome: 'failed', failure, reason: 'answered 200 with a body that is not a greeting array', durationMs };
    }
    return { outcome: 'failed', failure, reason: `answered ${response.status}${reasonOf(body)}`, durationMs };
  }
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
