/**
 * Calls an upstream's `GET /api/greeting` over HTTP/1.1 with `fetch` (the transport under Bun). `fetch` pools keep-alive
 * connections per origin, so a hop costs no new TCP handshake; each call has its own deadline, so one slow upstream cannot
 * hold its siblings' answers.
 */
import { interpret, requestFailed, timedOut } from './greeting-answer';
import type { UpstreamAnswer, UpstreamCall, UpstreamTransport } from './upstream';

export class HttpUpstreamTransport implements UpstreamTransport {
  async call({ upstream, headers, timeoutMs }: UpstreamCall): Promise<UpstreamAnswer> {
    const started = performance.now();
    const elapsed = () => performance.now() - started;
    // One deadline for the answer and its body, cleared as soon as the call is over: AbortSignal.timeout would leave a live
    // timer per call for the whole timeout (10 s), hundreds of thousands of them under load.
    const deadline = new AbortController();
    let expired = false;
    const timer = setTimeout(() => {
      expired = true;
      deadline.abort();
    }, timeoutMs);
    try {
      const response = await fetch(`${upstream.url}/api/greeting`, { headers: { accept: 'application/json', ...headers }, signal: deadline.signal });
      const body = await response.json().catch(() => undefined);
      if (expired) return timedOut(timeoutMs, elapsed());
      return interpret({ status: response.status, body, serverTiming: response.headers.get('server-timing') ?? undefined }, elapsed());
    } catch (err) {
      return expired ? timedOut(timeoutMs, elapsed()) : requestFailed(err, elapsed());
    } finally {
      clearTimeout(timer);
    }
  }
}
