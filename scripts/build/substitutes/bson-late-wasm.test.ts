/**
 * bson bundled as the binary bundles it (BUNDLE, with the plugin) against bson bundled as published: no WebAssembly
 * instance at import, one at the first 64-bit multiplication, division or remainder, and the same answers and errors for
 * all three, signed and unsigned, with or without the instance.
 */
import { afterAll, beforeAll, describe, expect, test } from 'bun:test';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { scratchDir } from '../../../bench/compile';
import { BUNDLE } from '../binary';
import { lateBsonWasm } from './bson-late-wasm';

type Bson = typeof import('bson');
const scratch = scratchDir();
const instances = { count: 0 };
const RealInstance = WebAssembly.Instance;
let late: Bson;
let published: Bson;
const atImport = { late: -1, published: -1 };

/** Requires a fresh bundle of bson, counting the WebAssembly instances made while it loads. */
const load = (file: string, which: keyof typeof atImport) => {
  const before = instances.count;
  const bson = require(file) as Bson;
  atImport[which] = instances.count - before;
  return bson;
};

beforeAll(async () => {
  const entry = join(scratch.path, 'entry.ts');
  // Required, as the driver requires it: the CommonJS build.
  writeFileSync(entry, "module.exports = require('bson');\n");
  const bundle = async (dir: string, plugins: typeof BUNDLE.plugins | []) => {
    const built = await Bun.build({ ...BUNDLE, plugins, format: 'cjs', splitting: false, entrypoints: [entry], outdir: join(scratch.path, dir) });
    if (!built.success) throw new AggregateError(built.logs, 'bundling bson failed');
    return join(scratch.path, dir, 'entry.js');
  };
  const [lateFile, publishedFile] = await Promise.all([bundle('late', BUNDLE.plugins), bundle('published', [])]);
  (WebAssembly as { Instance: unknown }).Instance = new Proxy(RealInstance, { construct: (target, args) => (instances.count++, Reflect.construct(target, args)) });
  late = load(lateFile, 'late');
  published = load(publishedFile, 'published');
});

afterAll(() => {
  (WebAssembly as { Instance: unknown }).Instance = RealInstance;
  scratch.dispose();
});

const VALUES = [
  '0', '1', '-1', '2', '-2', '7', '-7', '4294967295', '4294967296', '-4294967296', '9007199254740993', '-9007199254740993',
  '9223372036854775807', '-9223372036854775808', '1234567890123456789', '-987654321987654321', '65536', '-65535',
];
/** Every pair's product, quotient and remainder (or error), as text, signed and unsigned. */
const answers = (bson: Bson) => {
  const out: string[] = [];
  for (const unsigned of [false, true])
    for (const a of VALUES)
      for (const b of VALUES) {
        const x = bson.Long.fromString(a, unsigned);
        const y = bson.Long.fromString(b, unsigned);
        for (const op of ['multiply', 'divide', 'modulo'] as const) {
          let answer: string;
          try {
            answer = x[op](y).toString();
          } catch (err) {
            answer = `${(err as Error).name}: ${(err as Error).message}`;
          }
          out.push(`${unsigned ? 'u' : 's'} ${a} ${op} ${b} = ${answer}`);
        }
      }
  return out;
};

describe("bson's WebAssembly helper, instantiated on first use", () => {
  test('importing makes no instance (the published bson makes one); the first 64-bit product makes it, once', () => {
    expect(atImport).toEqual({ late: 0, published: 1 });
    const before = instances.count;
    expect(late.Long.fromNumber(6).multiply(late.Long.fromNumber(7)).toString()).toBe('42');
    late.Long.fromNumber(100).divide(7);
    late.Long.fromNumber(100).modulo(7);
    expect(instances.count - before).toBe(1);
  });

  test('every product, quotient and remainder, and every division by zero, is the published answer', () => {
    const expected = answers(published);
    expect(expected).toContain('s -9223372036854775808 divide -1 = -9223372036854775808');
    expect(expected.filter((a) => a.includes('Error')).length).toBeGreaterThan(0);
    expect(answers(late)).toEqual(expected);
  });

  test('where the instantiation fails (a runtime without WebAssembly), the answers are the published bson\'s there', () => {
    // Fresh copies of both bundles, meeting an Instance that refuses: the published one at import, the late one at its
    // first 64-bit operation. (bson's JavaScript arithmetic words a remainder by zero otherwise than its WebAssembly does.)
    const fresh = (dir: string) => {
      const copy = join(scratch.path, dir, 'copy.js');
      writeFileSync(copy, readFileSync(join(scratch.path, dir, 'entry.js')));
      return require(copy) as Bson;
    };
    const tried = { count: 0 };
    (WebAssembly as { Instance: unknown }).Instance = function refuse() {
      tried.count++;
      throw new WebAssembly.CompileError('no WebAssembly here');
    };
    try {
      const withoutWasm = answers(fresh('published'));
      expect(withoutWasm).not.toEqual(answers(published));
      expect(answers(fresh('late'))).toEqual(withoutWasm);
    } finally {
      (WebAssembly as { Instance: unknown }).Instance = RealInstance;
    }
    expect(tried.count).toBe(2);
  });

  test('a bson that declares or uses the helper otherwise fails the build, naming the file and what to update', () => {
    const source = readFileSync(require.resolve('bson'), 'utf8');
    expect(() => lateBsonWasm('const x = 1;\n', 'bson.cjs')).toThrow(/bson\.cjs: expected bson's WebAssembly helper .*no declaration.*bson-late-wasm\.ts/);
    expect(() => lateBsonWasm(source.replace('        if (wasm) {\n', '        if (wasm && true) {\n'), 'bson.cjs')).toThrow(/found 2 uses/);
    expect(lateBsonWasm(source, 'bson.cjs')).not.toMatch(/^try \{\n {4}wasm = new WebAssembly/m);
  });
});
