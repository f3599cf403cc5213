/** Per-hop timings: what an upstream's Server-Timing may put into our own header and gRPC trailer. */
import { expect, test } from 'bun:test';
import { formatTimings, parseTimings } from './greeting';

test('timings round-trip through Server-Timing syntax', () => {
  const timings = [
    { id: 'a', name: 'Service A', durationMs: 1.5 },
    { id: 'b-v2', name: 'Service B', durationMs: 0.25 },
  ];
  expect(parseTimings(formatTimings(timings))).toEqual(timings);
});

test("an upstream's entries that our header could not carry are dropped or made safe, and there are never more than 256", () => {
  // A non-token id (gRPC trailers refuse non-ASCII, and a space breaks the syntax), no duration, a description with quotes.
  const parsed = parseTimings('bé;dur=1, c d;dur=2, e;desc="x", g;dur=3;desc="Sërvice "G"", h;dur=4');
  expect(parsed).toEqual([
    { id: 'g', name: 'S?rvice ?G?', durationMs: 3 },
    { id: 'h', name: '', durationMs: 4 },
  ]);
  expect(formatTimings(parsed)).toMatch(/^[\x20-\x7e]*$/);
  const flood = Array.from({ length: 10_000 }, (_, i) => `x${i};dur=1`).join(', ');
  expect(parseTimings(flood)).toHaveLength(256);
});
