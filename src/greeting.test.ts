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

test('our own format and any other spelling of the same timings parse alike', () => {
  const own = 'a;dur=1.63;desc="Service A", b-v2;dur=0.25;desc="Service B", h;dur=12345.00;desc="S?rvice H"';
  const expected = [
    { id: 'a', name: 'Service A', durationMs: 1.63 },
    { id: 'b-v2', name: 'Service B', durationMs: 0.25 },
    { id: 'h', name: 'S?rvice H', durationMs: 12345 },
  ];
  expect(parseTimings(own)).toEqual(expected);
  // Parameters in another order, spaces, an extra parameter, an exponent: the general parser takes them.
  expect(parseTimings('a;desc="Service A";dur=1.63,b-v2 ; dur=2.5e-1 ; desc="Service B";x=1, h;dur=12345;desc="S?rvice H"')).toEqual(expected);
  // One entry of our format after one that is not: the whole header goes to the general parser, which drops only the bad one.
  expect(parseTimings('bé;dur=1, a;dur=1.63;desc="Service A"')).toEqual([expected[0]!]);
  const flood = Array.from({ length: 300 }, (_, i) => `x${i};dur=1.00;desc="X"`).join(', ');
  expect(parseTimings(flood)).toHaveLength(256);
});

