/** The cheapest HTTP client of the runtime we run on: Bun's fetch, or node:http under Node. */
import { HttpUpstreamTransport } from './http-upstream';
import { NodeHttpUpstreamTransport } from './node-http-upstream';
import type { UpstreamTransport } from './upstream';

export function defaultTransport(maxAnswerBytes: number): UpstreamTransport {
  return (globalThis as { Bun?: unknown }).Bun ? new HttpUpstreamTransport(maxAnswerBytes) : new NodeHttpUpstreamTransport(maxAnswerBytes);
}
