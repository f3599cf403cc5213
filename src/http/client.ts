/** The cheapest HTTP client of the runtime we run on: Bun's fetch, or node:http under Node (its fetch cost ten times the CPU). */
import type { UpstreamTransport } from '../transport/upstream';
import { FetchClient } from './fetch-client';
import { httpConventions } from './wire';

export function httpClient(maxAnswerBytes: number): UpstreamTransport {
  if ((globalThis as { Bun?: unknown }).Bun) return new FetchClient(maxAnswerBytes);
  // node:http and node:https load only under Node: imported statically, Bun would load them at every start for nothing.
  const client = import('./node-client').then(({ NodeHttpClient }) => new NodeHttpClient(maxAnswerBytes));
  return {
    describe: httpConventions.describe,
    answerAttributes: httpConventions.answerAttributes,
    call: async (call) => (await client).call(call),
  };
}
