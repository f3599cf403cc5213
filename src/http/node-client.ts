/**
 * The same call over `node:http` with a keep-alive agent: the transport of the Node bundle. Node's `fetch` (undici) cost
 * about ten times the CPU per call here, which made the Node bundle's chain an order of magnitude slower than Bun's.
 */
import { Agent, request } from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';
import { requestFailed, timedOut, tooLarge } from '../transport/failures';
import type { UpstreamAnswer, UpstreamCall, UpstreamTransport } from '../transport/upstream';
import { httpConventions, readAnswer } from './wire';

export class NodeHttpClient implements UpstreamTransport {
  readonly describe = httpConventions.describe;
  readonly answerAttributes = httpConventions.answerAttributes;
  private readonly agent = new Agent({ keepAlive: true });
  private readonly httpsAgent = new HttpsAgent({ keepAlive: true });
  private readonly urls = new Map<string, URL>();

  constructor(private readonly maxAnswerBytes: number) {}

  call({ upstream, headers, timeoutMs }: UpstreamCall): Promise<UpstreamAnswer> {
    const started = performance.now();
    const elapsed = () => performance.now() - started;
    let url = this.urls.get(upstream.url);
    if (!url) this.urls.set(upstream.url, (url = new URL(`${upstream.url}${httpConventions.path}`)));
    const https = url.protocol === 'https:';
    return new Promise<UpstreamAnswer>((resolve) => {
      let settled = false;
      const settle = (answer: UpstreamAnswer) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        resolve(answer);
      };
      const req = (https ? httpsRequest : request)(
        url,
        { headers: { accept: 'application/json', ...headers }, agent: https ? this.httpsAgent : this.agent },
        (res) => {
          const chunks: Buffer[] = [];
          let size = 0;
          res.on('data', (chunk: Buffer) => {
            size += chunk.byteLength;
            if (size <= this.maxAnswerBytes) return void chunks.push(chunk);
            settle(tooLarge(String(res.statusCode ?? 0), this.maxAnswerBytes, elapsed()));
            req.destroy();
          });
          res.on('error', (err) => settle(requestFailed(err, elapsed())));
          res.on('end', () => {
            let body: unknown;
            try {
              body = JSON.parse(Buffer.concat(chunks).toString('utf8'));
            } catch {
              body = undefined;
            }
            const timing = res.headers['server-timing'];
            settle(readAnswer({ status: res.statusCode ?? 0, body, serverTiming: Array.isArray(timing) ? timing.join(', ') : timing }, elapsed()));
          });
        },
      );
      const timer = setTimeout(() => {
        settle(timedOut(timeoutMs, elapsed()));
        req.destroy();
      }, timeoutMs);
      req.on('error', (err) => settle(requestFailed(err, elapsed())));
      req.end();
    });
  }
}
