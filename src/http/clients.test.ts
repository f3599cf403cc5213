/** Both HTTP clients behind the upstream seam give the same answers for the same upstream behaviour. */
import { afterAll, describe, expect, test } from 'bun:test';
import { makeGreeting } from '../greeting';
import { upstreamServer } from '../../test/support/upstream-server';
import { FetchClient } from './fetch-client';
import { NodeHttpClient } from './node-client';
import { SocketClient } from './socket-client';

const server = upstreamServer({ body: [] });
afterAll(() => server.stop());
const LIMIT = 64 * 1024;
const upstream = () => ({ id: 'b', name: 'Service B', url: server.url, transport: 'http' as const });

for (const [name, transport] of [
  ['fetch', new FetchClient(LIMIT)],
  ['socket', new SocketClient(LIMIT)],
  ['node:http', new NodeHttpClient(LIMIT)],
] as const) {
  describe(`${name} transport`, () => {
    const call = (timeoutMs = 1000, headers: Record<string, string> = {}) => transport.call({ upstream: upstream(), headers, timeoutMs });

    test('a greeting array is ok, with the Server-Timing of the subtree', async () => {
      const g = makeGreeting('Service B', 'hi');
      server.set({ body: [g] });
      const answer = await call();
      expect(answer).toMatchObject({ outcome: 'whole', code: '200', entries: [g] });
    });

    test('a 502 with a greeting array is a partial subtree that passes through', async () => {
      const entries = [makeGreeting('Service D', 'hi'), { service: 'Service E', error: 'answered 503', upstream: 'http://e' }];
      server.set({ status: 502, body: entries });
      expect(await call()).toMatchObject({ outcome: 'partial', code: '502', entries });
    });

    test("any other status fails with the upstream's reason", async () => {
      server.set({ status: 503, body: { error: 'store down' } });
      expect(await call()).toMatchObject({ outcome: 'failed', failure: '503', reason: 'answered 503: store down' });
    });

    test('a 200 that is not a greeting array fails', async () => {
      server.set({ rawBody: 'upstream connect error' });
      expect(await call()).toMatchObject({ outcome: 'failed', failure: '200', reason: 'answered 200 with a body that is not a greeting array' });
    });

    test('no answer within the deadline is a timeout', async () => {
      // Well short of the upstream's delay: the client gave up at its deadline rather than waited for the answer.
      server.set({ body: [], delayMs: 2_000 });
      const answer = await call(100);
      expect(answer).toMatchObject({ outcome: 'failed', failure: 'timeout', reason: 'no answer within 100 ms' });
      expect(answer.durationMs).toBeLessThan(1_000);
    });

    test('a refused connection is an error', async () => {
      const answer = await transport.call({ upstream: { id: 'x', name: 'Service X', url: 'http://127.0.0.1:1', transport: 'http' }, headers: {}, timeoutMs: 1000 });
      expect(answer).toMatchObject({ outcome: 'failed', failure: 'error' });
      expect((answer as { reason: string }).reason).toStartWith('request failed: ');
    });

    test('the given headers reach the upstream', async () => {
      let seen: Record<string, string> = {};
      server.set({ body: ((h: Record<string, string>) => ((seen = h), [])) as never });
      await call(1000, { 'x-b3-traceid': 'abc', 'x-request-id': 'r1' });
      expect([seen['x-b3-traceid'], seen['x-request-id']]).toEqual(['abc', 'r1']);
    });

    test('an answer past the size limit is a failed subtree, with or without a declared length, and the next call works', async () => {
      const big = [{ ...makeGreeting('Service B', 'x'.repeat(LIMIT)) }];
      for (const chunked of [false, true]) {
        server.set({ body: big, chunked });
        expect(await call()).toMatchObject({ outcome: 'failed', failure: 'too_large', reason: `answered 200 with a body larger than ${LIMIT} bytes (UPSTREAM_MAX_ANSWER_BYTES)` });
      }
      // The connection is usable again for the next, small answer.
      const g = makeGreeting('Service B', 'hi');
      server.set({ body: [g], chunked: true });
      expect(await call()).toMatchObject({ outcome: 'whole', entries: [g] });
    });
  });
}
