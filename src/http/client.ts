/** The cheapest HTTP client of the runtime we run on: Bun's fetch, or node:http under Node (its fetch cost ten times the CPU). */
import type { UpstreamTransport } from '../transport/upstream';
import { FetchClient } from './fetch-client';
import { NodeHttpClient } from './node-client';

export function httpClient(maxAnswerBytes: number): UpstreamTransport {
  return (globalThis as { Bun?: unknown }).Bun ? new FetchClient(maxAnswerBytes) : new NodeHttpClient(maxAnswerBytes);
}
