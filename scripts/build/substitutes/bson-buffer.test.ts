/**
 * bson bundled as the binary bundles it (BUNDLE, with the plugin) against bson as published, which this test process
 * requires as the driver does: the same bytes and the same errors for documents below, at and across the first buffer's end
 * and up to the server's limit, and 17 MB fewer held at import.
 */
import { afterAll, beforeAll, describe, expect, test } from 'bun:test';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { scratchDir } from '../../../bench/compile';
import { BUNDLE } from '../binary';
import { FIRST_BUFFER_BYTES, lateBsonBuffer } from './bson-buffer';

type Bson = typeof import('bson');
/** serialize()'s options, with the one bson reads but does not declare. */
type Options = Parameters<Bson['serialize']>[1] & { minInternalBufferSize?: number };
const real = require('bson') as Bson;
const scratch = scratchDir();
let bundled: Bson;
let bundledFile = '';

beforeAll(async () => {
  const entry = join(scratch.path, 'entry.ts');
  // Required, as the driver requires it: the CommonJS build.
  writeFileSync(entry, "module.exports = require('bson');\n");
  const built = await Bun.build({ ...BUNDLE, format: 'cjs', splitting: false, entrypoints: [entry], outdir: join(scratch.path, 'out') });
  if (!built.success) throw new AggregateError(built.logs, 'bundling bson failed');
  bundledFile = join(scratch.path, 'out', 'entry.js');
  bundled = require(bundledFile) as Bson;
});

afterAll(() => scratch.dispose());

const MB = 1024 * 1024;
const { Binary, BSONRegExp, Code, Decimal128, Double, Int32, Long, MaxKey, MinKey, ObjectId, Timestamp } = real;

/** One field of `bytes` characters, so the document ends `end` bytes past (or before, when negative) the first buffer. */
const endingAt = (end: number, char = 'a') => {
  const overhead = 4 + 1 + 2 + 4 + 1 + 1; // size, type, key "s" and its NUL, string size, its NUL, the document's NUL
  const bytes = FIRST_BUFFER_BYTES + end - overhead;
  const width = Buffer.byteLength(char);
  return { s: char.repeat(Math.floor(bytes / width)) + 'a'.repeat(bytes % width) };
};

const CASES: [string, unknown, Options?][] = [
  ['empty', {}],
  ['a greeting', { id: '4f1c', servicename: 'Service C', message: 'Konnichiwa (こんにちは), from Service C!', createdat: new Date(1_764_000_000_000), hostname: 'vm', version: 'v1' }],
  [
    'every type',
    {
      n: null, u: undefined, t: true, i: 42, big: 2 ** 40, f: 1.5, neg: -0, l: Long.fromString('9007199254740993'), d: new Double(2), i32: new Int32(7),
      dec: Decimal128.fromString('1.10'), oid: new ObjectId('64b7f0c2a1b2c3d4e5f60718'), bin: new Binary(Buffer.from([1, 2, 3]), 4), date: new Date(0),
      re: /gr(ee)t/gim, bre: new BSONRegExp('x+', 'i'), ts: new Timestamp({ t: 5, i: 6 }), min: new MinKey(), max: new MaxKey(), code: new Code('f()', { a: 1 }),
      nested: { a: [1, 'two', { three: [3] }], m: new Map<string, unknown>([['k', 'v']]) }, buf: Buffer.from('bytes'), arr: new Array(3).fill({ x: 1 }),
    },
  ],
  ['undefined kept', { u: undefined, a: [undefined] }, { ignoreUndefined: false }],
  ['a function', { f() {} }, { serializeFunctions: true }],
  ...[-40, -2, -1, 0, 1, 2, 40, 3 * MB].map((end): [string, unknown] => [`an ASCII string ending ${end} bytes past the first buffer`, endingAt(end)]),
  ...[-5, -4, -3, -2, -1, 0, 1, 2, 3].map((end): [string, unknown] => [`a string of 3-byte characters ending ${end} past it`, endingAt(end, 'こ')]),
  ...[-5, -4, -3, -2, -1, 0, 1, 2, 3].map((end): [string, unknown] => [`a string of 4-byte characters ending ${end} past it`, endingAt(end, '😀')]),
  ['a 2-byte string in a key across the end', { pad: 'x'.repeat(FIRST_BUFFER_BYTES - 20), ['é'.repeat(12)]: 1 }],
  ['a binary across the end', { pad: 'x'.repeat(FIRST_BUFFER_BYTES - 100), bin: new Binary(Buffer.alloc(200, 7)) }],
  ['an ObjectId across the end', { pad: 'x'.repeat(FIRST_BUFFER_BYTES - 27), oid: new ObjectId('64b7f0c2a1b2c3d4e5f60718') }],
  ['a double across the end', { pad: 'x'.repeat(FIRST_BUFFER_BYTES - 23), f: 0.1 }],
  ['many small fields past it', Object.fromEntries(Array.from({ length: 120_000 }, (_, i) => [`k${i}`, i]))],
  ['an array of documents past it', { docs: Array.from({ length: 9_000 }, (_, i) => ({ i, s: 'greeting '.repeat(20) })) }],
  ['nearly the server limit (16 MB)', { s: 'z'.repeat(16 * MB - 64) }],
  ['a small minimum buffer', endingAt(500), { minInternalBufferSize: 1024 }],
  ['a minimum over 17 MB', { a: 1 }, { minInternalBufferSize: 18 * MB }],
  // After that minimum, bson's buffer is 18 MB: a document of 17.5 MB fits it.
  ['a document over 17 MB after it', { s: 'y'.repeat(17 * MB + MB / 2) }],
  // Refusals: the same error, whether or not the document fits the first buffer.
  ['a $ key, checked', { $bad: 1 }, { checkKeys: true }],
  ['a dotted key, checked, past the end', { pad: 'x'.repeat(FIRST_BUFFER_BYTES), 'a.b': 1 }, { checkKeys: true }],
  ['a NUL in a key', { 'a\u0000b': 1 }],
  ['an array at the root', [1, 2]],
  ['a date at the root', new Date(0)],
  ['a cycle', (() => { const o: Record<string, unknown> = { pad: 'x'.repeat(FIRST_BUFFER_BYTES) }; o.self = o; return o; })()],
  ['a toBSON that throws', { pad: 'x'.repeat(FIRST_BUFFER_BYTES), v: { toBSON() { throw new TypeError('no'); } } }],
];

function outcome(bson: Bson, doc: unknown, options?: Options) {
  try {
    const bytes = bson.serialize(doc as Record<string, unknown>, options);
    return { length: bytes.length, sha: new Bun.CryptoHasher('sha256').update(bytes).digest('hex') };
  } catch (err) {
    return { error: `${(err as Error).name}: ${(err as Error).message}` };
  }
}

describe("bson's serialization buffer, allocated when a document needs it", () => {
  /** A copy of each, loaded anew: its buffer as at import. */
  let copies = 0;
  const fresh = (): [Bson, Bson] =>
    [bundledFile, require.resolve('bson')].map((file) => {
      const copy = join(scratch.path, 'out', `copy-${++copies}.cjs`);
      writeFileSync(copy, readFileSync(file));
      return require(copy) as Bson;
    }) as [Bson, Bson];

  test('serialize() answers as the published one, small documents, big ones and refusals, each the first of its module', () => {
    for (const [name, doc, options] of CASES) {
      const [mine, theirs] = fresh();
      expect({ name, ...outcome(mine, doc, options) }).toEqual({ name, ...outcome(theirs, doc, options) });
    }
    // The corpus holds both outcomes, and documents of both sizes.
    const outcomes = CASES.map(([, doc, options]) => outcome(real, doc, options));
    expect(outcomes.filter((o) => 'error' in o).length).toBeGreaterThanOrEqual(7);
    const lengths = outcomes.flatMap((o) => (typeof o.length === 'number' ? [o.length] : []));
    expect(lengths.filter((length) => length > FIRST_BUFFER_BYTES).length).toBeGreaterThanOrEqual(10);
    expect(lengths.filter((length) => length === FIRST_BUFFER_BYTES).length).toBe(3);
  });

  test('and in one module after the other, forwards and backwards: the buffers grow on the way, and a minimum asked for stays', () => {
    for (const [direction, order] of [['forwards', CASES], ['backwards', [...CASES].reverse()]] as const) {
      const [mine, theirs] = fresh();
      for (const [name, doc, options] of order) expect({ name, direction, ...outcome(mine, doc, options) }).toEqual({ name, direction, ...outcome(theirs, doc, options) });
    }
  });

  test('serializeWithBufferAndIndex() writes the same bytes at the same index, past the first buffer too', () => {
    for (const doc of [{ a: 1 }, endingAt(1), endingAt(2 * MB)]) {
      const [bundled, real] = fresh();
      const size = real.calculateObjectSize(doc);
      const [mine, theirs] = [Buffer.alloc(size + 10, 9), Buffer.alloc(size + 10, 9)];
      expect(bundled.serializeWithBufferAndIndex(doc, mine, { index: 7 })).toBe(real.serializeWithBufferAndIndex(doc, theirs, { index: 7 }));
      expect(Buffer.compare(mine, theirs)).toBe(0);
    }
  });

  test('what it serializes deserializes to what went in', () => {
    const doc = { ...endingAt(3), n: new Int32(1) };
    expect(real.deserialize(bundled.serialize(doc))).toEqual(real.deserialize(real.serialize(doc)));
  });

  test('importing it holds about 1 MB of buffers, not 17', () => {
    const held = (file: string) => {
      const run = Bun.spawnSync([process.execPath, '-e', `const { heapStats } = require('bun:jsc'); const before = heapStats().extraMemorySize; globalThis.keep = require(${JSON.stringify(file)}); Bun.gc(true); console.log(heapStats().extraMemorySize - before);`]);
      return Number(run.stdout.toString().trim()) / MB;
    };
    expect(held(bundledFile)).toBeLessThan(3);
    expect(held(require.resolve('bson'))).toBeGreaterThan(16);
  });

  test('a bson without the published text fails the build, naming the file and what to update', () => {
    expect(() => lateBsonBuffer('let buffer = ByteUtils.allocate(MAXSIZE);', 'bson/lib/bson.cjs')).toThrow(/bson\/lib\/bson\.cjs: expected .* found none.*bson-buffer\.ts/);
  });
});
