/**
 * Calls an upstream's `GET /api/greeting` with `fetch`: under Bun, the transport to `https://` upstreams (`http://` ones go
 * over the role's own sockets, socket-client.ts, at a tenth of the CPU). `fetch` pools keep-alive connections per origin, so
 * a hop costs no new handshake; each call has its own deadline, so one slow upstream cannot hold its siblings' answers.
 */
import { requestFailed, timedOut, tooLarge } from '../transport/failures';
import type { UpstreamAnswer, UpstreamCall, UpstreamTransport } from '../transport/upstream';
import { httpConventions, readAnswer } from './wire';

export class FetchClient implements UpstreamTransport {
  readonly describe = httpConventions.describe;
  readonly answerAttributes = httpConventions.answerAttributes;

  /** `maxAnswerBytes`: an answer past this size is dropped as failed (config defaults.upstreamMaxAnswerBytes). */
  constructor(private readonly maxAnswerBytes: number) {}

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
      const response = await fetch(`${upstream.url}${httpConventions.path}`, { headers: { accept: 'application/json', ...headers }, signal: deadline.signal });
      const body = await readJson(response, this.maxAnswerBytes);
      if (body === TOO_LARGE) {
        deadline.abort();
        return tooLarge(String(response.status), this.maxAnswerBytes, elapsed());
      }
      if (expired) return timedOut(timeoutMs, elapsed());
      return readAnswer({ status: response.status, body, serverTiming: response.headers.get('server-timing') }, elapsed());
    } catch (err) {
      return expired ? timedOut(timeoutMs, elapsed()) : requestFailed(err, elapsed());
    } finally {
      clearTimeout(timer);
    }
  }
}

const TOO_LARGE = Symbol('too large');

/**
 * The parsed JSON body, undefined when it is not JSON, or TOO_LARGE past `limit` bytes. A declared length within the limit is
 * read whole (the common case: every role answers with one); otherwise the body is counted as it streams and dropped at the limit.
 */
async function readJson(response: Response, limit: number): Promise<unknown> {
  const declared = response.headers.get('content-length');
  if (declared !== null && Number(declared) <= limit) return response.json().catch(() => undefined);
  if (declared !== null || !response.body) return declared === null ? undefined : TOO_LARGE;
  const chunks: Uint8Array[] = [];
  let size = 0;
  for await (const chunk of response.body as unknown as AsyncIterable<Uint8Array>) {
    size += chunk.byteLength;
    if (size > limit) return TOO_LARGE;
    chunks.push(chunk);
  }
  try {
    return JSON.parse(Buffer.concat(chunks).toString('utf8'));
  } catch {
    return undefined;
  }
}
