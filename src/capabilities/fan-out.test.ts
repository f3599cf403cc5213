/** The fan-out never lets one upstream decide the whole answer: a transport that throws fails only its own subtree. */
import { expect, test } from 'bun:test';
import type { Upstream } from '../config/settings';
import { makeGreeting } from '../greeting';
import type { UpstreamTransport } from '../transport/upstream';
import { fanOut } from './fan-out';

const upstream = (id: string): Upstream => ({ id, name: `Service ${id.toUpperCase()}`, url: `grpc://${id}:50051`, transport: 'grpc' });

test('a transport that throws for one upstream gives that upstream an error entry, and the others answer whole', async () => {
  const g = makeGreeting('Service G', 'hi');
  const transport: UpstreamTransport = {
    async call({ upstream: u }) {
      if (u.id === 'h') throw new Error('not a gRPC upstream address: grpc://h:50051/x');
      return { outcome: 'whole', entries: [g], timings: [], code: 'OK', durationMs: 1 };
    },
    describe: () => ({ spanName: 'call', attributes: {} }),
    answerAttributes: () => ({}),
  };
  const result = await fanOut(transport, [upstream('g'), upstream('h')], {}, 1000);
  expect(result.degraded).toBe(true);
  expect(result.failed).toEqual(['Service H']);
  expect(result.entries).toEqual([g, { service: 'Service H', error: 'request failed: not a gRPC upstream address: grpc://h:50051/x', upstream: 'grpc://h:50051' }]);
});
