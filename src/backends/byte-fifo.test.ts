import { expect, test } from 'bun:test';
import { ByteFifo } from './byte-fifo';

/** Strings that take 1 to 4 bytes a character in UTF-8, empty ones, lone surrogates of both halves, and long ones. */
function field(random: () => number): string {
  const pick = random();
  if (pick < 0.1) return '';
  if (pick < 0.11) return 'x'.repeat(300_000 + Math.floor(random() * 1000)); // longer than a buffer
  const alphabet = ['a', 'Z', '{"id":', 'é', '€', '𝄞', '\u0000', '\n', '\ud800', '\udc00'];
  let s = '';
  for (let n = Math.floor(random() * 40); n > 0; n--) s += alphabet[Math.floor(random() * alphabet.length)];
  return s;
}

/**
 * What a record's fields come back as: their text through UTF-8 (by the encoding API, not Buffer), cut where it was joined.
 * A lone surrogate becomes U+FFFD; a high one ending a field and a low one starting the next make a pair and come back as sent.
 */
function throughUtf8(fields: string[]): string[] {
  const text = new TextDecoder().decode(new TextEncoder().encode(fields.join('')));
  let from = 0;
  return fields.map((f) => text.slice(from, (from += f.length)));
}

/** A small deterministic generator, so a failure is the same failure on every run. */
function mulberry32(seed: number): () => number {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

test('gives back every record, field for field and in order, through pushes and shifts interleaved', () => {
  const random = mulberry32(15);
  const fifo = new ByteFifo();
  const expected: string[][] = [];
  let read = 0;
  for (let step = 0; step < 20_000; step++) {
    if (random() < 0.55) {
      const record = Array.from({ length: Math.floor(random() * 6) }, () => field(random));
      fifo.push(record);
      expected.push(throughUtf8(record));
    } else {
      const want = expected[read];
      const got = fifo.shift();
      if (want === undefined) expect(got).toBeUndefined();
      else {
        read++;
        expect(got).toEqual(want);
      }
    }
    expect(fifo.length).toBe(expected.length - read);
  }
  while (read < expected.length) expect(fifo.shift()).toEqual(expected[read++]!);
  expect(fifo.shift()).toBeUndefined();
  expect(fifo.length).toBe(0);
});

test('lets go of its buffers as they are read, and writes a drained one again from its start', () => {
  const fifo = new ByteFifo();
  const record = ['{"id":"7c9e6679-7425-40de-944b-e07fc1f90ae7","service":"Service D"}', 'x-request-id', 'abc'];
  for (let i = 0; i < 20_000; i++) fifo.push(record);
  const held = fifo.bytesHeld;
  expect(held).toBeGreaterThan(1_000_000);
  for (let i = 0; i < 19_999; i++) fifo.shift();
  expect(fifo.bytesHeld).toBeLessThanOrEqual(256 * 1024);
  expect(fifo.shift()).toEqual(record);
  for (let i = 0; i < 1_000; i++) {
    fifo.push(record);
    expect(fifo.shift()).toEqual(record);
  }
  expect(fifo.bytesHeld).toBe(256 * 1024);
});

test('a record longer than a buffer, pushed once everything was read, is the next one read', () => {
  const fifo = new ByteFifo();
  fifo.push(['read']);
  expect(fifo.shift()).toEqual(['read']);
  const long = 'é'.repeat(200_000);
  fifo.push([long]);
  fifo.push(['after']);
  expect(fifo.shift()).toEqual([long]);
  expect(fifo.shift()).toEqual(['after']);
  expect(fifo.shift()).toBeUndefined();
});
