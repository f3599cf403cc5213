/**
 * bson and long bundled as the binary bundles them (BUNDLE, with the plugin) against the same packages bundled as published:
 * no WebAssembly instance at import, one at the first 64-bit multiplication, division or remainder, and the same answers
 * and errors for all three, signed and unsigned, with the instance and without.
 */
import { afterAll, beforeAll, describe, expect, test } from 'bun:test';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { scratchDir } from '../../../bench/compile';
import { BUNDLE } from '../binary';
import { BSON_WASM, lateWasm, LONG_WASM } from './late-wasm';

/** What the tests use of a 64-bit integer class: bson's Long and long's are the same API. */
interface LongClass {
  fromString(text: string, unsigned?: boolean): LongValue;
  fromNumber(n: number): LongValue;
}
interface LongValue {
  multiply(other: LongValue | number): LongValue;
  divide(other: LongValue | number): LongValue;
  modulo(other: LongValue | number): LongValue;
  toString(): string;
}

const PACKAGES = {
  bson: { require: "module.exports = require('bson').Long;", helper: BSON_WASM },
  long: { require: "module.exports = require('long');", helper: LONG_WASM },
} as const;
type Package = keyof typeof PACKAGES;

const scratch = scratchDir();
const instances = { count: 0 };
const RealInstance = WebAssembly.Instance;
const files: Record<string, string> = {};
const loaded: Record<string, { Long: LongClass; atImport: number }> = {};

/** Requires a fresh copy of a bundle, counting the WebAssembly instances made while it loads. */
const fresh = (key: string, copy = 'entry.js') => {
  const file = join(files[key]!, copy);
  if (copy !== 'entry.js') writeFileSync(file, readFileSync(join(files[key]!, 'entry.js')));
  const before = instances.count;
  const Long = require(file) as LongClass;
  return { Long, atImport: instances.count - before };
};

beforeAll(async () => {
  await Promise.all(
    Object.entries(PACKAGES).flatMap(([name, { require }]) => {
      // Required, as the driver and protobuf require them: the CommonJS builds.
      mkdirSync(join(scratch.path, name));
      const entry = join(scratch.path, name, 'entry.ts');
      writeFileSync(entry, `${require}\n`);
      return (['late', 'published'] as const).map(async (kind) => {
        const dir = join(scratch.path, `${name}-${kind}`);
        const built = await Bun.build({ ...BUNDLE, plugins: kind === 'late' ? BUNDLE.plugins : [], format: 'cjs', splitting: false, entrypoints: [entry], outdir: dir });
        if (!built.success) throw new AggregateError(built.logs, `bundling ${name} failed`);
        files[`${name}-${kind}`] = dir;
      });
    }),
  );
  (WebAssembly as { Instance: unknown }).Instance = new Proxy(RealInstance, { construct: (target, args) => (instances.count++, Reflect.construct(target, args)) });
  for (const key of Object.keys(files)) loaded[key] = fresh(key);
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
const answers = (Long: LongClass) => {
  const out: string[] = [];
  for (const unsigned of [false, true])
    for (const a of VALUES)
      for (const b of VALUES) {
        const x = Long.fromString(a, unsigned);
        const y = Long.fromString(b, unsigned);
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

for (const name of Object.keys(PACKAGES) as Package[])
  describe(`${name}'s WebAssembly helper, instantiated on first use`, () => {
    test('importing makes no instance (the published package makes one); the first 64-bit product makes it, once', () => {
      expect({ late: loaded[`${name}-late`]!.atImport, published: loaded[`${name}-published`]!.atImport }).toEqual({ late: 0, published: 1 });
      const { Long } = loaded[`${name}-late`]!;
      const before = instances.count;
      expect(Long.fromNumber(6).multiply(Long.fromNumber(7)).toString()).toBe('42');
      Long.fromNumber(100).divide(7);
      Long.fromNumber(100).modulo(7);
      expect(instances.count - before).toBe(1);
    });

    test('every product, quotient and remainder, and every division by zero, is the published answer', () => {
      const expected = answers(loaded[`${name}-published`]!.Long);
      expect(expected).toContain('s -9223372036854775808 divide -1 = -9223372036854775808');
      expect(expected.filter((a) => a.includes('Error')).length).toBeGreaterThan(0);
      expect(answers(loaded[`${name}-late`]!.Long)).toEqual(expected);
    });

    test("where the instantiation fails (a runtime without WebAssembly), the answers are the published package's there", () => {
      // Fresh copies of both bundles meet an Instance that refuses: the published one at import, the late one at its first
      // 64-bit operation. (bson's JavaScript arithmetic words a remainder by zero otherwise than its WebAssembly does.)
      const tried = { count: 0 };
      const counting = WebAssembly.Instance;
      (WebAssembly as { Instance: unknown }).Instance = function refuse() {
        tried.count++;
        throw new WebAssembly.CompileError('no WebAssembly here');
      };
      try {
        const withoutWasm = answers(fresh(`${name}-published`, 'copy.js').Long);
        expect(answers(fresh(`${name}-late`, 'copy.js').Long)).toEqual(withoutWasm);
      } finally {
        (WebAssembly as { Instance: unknown }).Instance = counting;
      }
      expect(tried.count).toBe(2);
    });

    test('a package that declares or uses the helper otherwise fails the build, naming the file and what to update', () => {
      const { helper } = PACKAGES[name];
      const source = readFileSync(name === 'bson' ? require.resolve('bson') : join(dirname(require.resolve('long/package.json')), 'umd', 'index.js'), 'utf8');
      expect(() => lateWasm('const x = 1;\n', 'f.js', helper)).toThrow(new RegExp(`f\\.js: expected ${name}'s WebAssembly helper .*no declaration.*late-wasm\\.ts`));
      expect(() => lateWasm(source.replace(helper.use, helper.use.replace('if (wasm)', 'if (wasm && true)')), 'f.js', helper)).toThrow(/found 2 uses/);
      expect(lateWasm(source, 'f.js', helper)).toContain('function lateWasm()');
    });
  });
