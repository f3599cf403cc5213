/**
 * The cheapest HTTP client of the runtime we run on: under Bun, its TCP sockets on the event loop (socket-client.ts) for
 * `http://` upstreams and fetch for `https://` ones; under Node, node:http (its fetch cost ten times the CPU).
 */
import type { UpstreamTransport } from '../transport/upstream';
import { FetchClient } from './fetch-client';
import { SocketClient } from './socket-client';
import { httpConventions } from './wire';

export function httpClient(maxAnswerBytes: number): UpstreamTransport {
  if ((globalThis as { Bun?: unknown }).Bun) {
    const sockets = new SocketClient(maxAnswerBytes);
    const fetch = new FetchClient(maxAnswerBytes);
    return {
      describe: httpConventions.describe,
      answerAttributes: httpConventions.answerAttributes,
      call: (call) => (call.upstream.url.startsWith('https:') ? fetch : sockets).call(call),
    };
  }
  // node:http and node:https load only under Node: imported statically, Bun would load them at every start for nothing.
  const client = import('./node-client').then(({ NodeHttpClient }) => new NodeHttpClient(maxAnswerBytes));
  return {
    describe: httpConventions.describe,
    answerAttributes: httpConventions.answerAttributes,
    call: async (call) => (await client).call(call),
  };
}
