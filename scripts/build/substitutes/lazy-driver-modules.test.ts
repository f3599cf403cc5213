/**
 * The driver modules loaded on first use: the rewrite refuses what a lazy binding cannot stand for, the list names modules the
 * driver still requires, and a store built as the binary is (BUNDLE) loads none of them on its paths against a real server,
 * while the same store bundled without the plugin loads most of them at import.
 */
import { describe, expect, test } from 'bun:test';
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { scratchDir } from '../../../bench/compile';
import { describeWithBackends, freePort } from '../../../test/support/backends';
import { BUNDLE } from '../binary';
import { deferDriverRequires, DRIVER_LIB, DRIVER_REQUIRE, driverModuleOf, LAZY_DRIVER_MODULES } from './lazy-driver-modules';

const ROOT = join(import.meta.dir, '..', '..', '..');
const driverFiles = (readdirSync(DRIVER_LIB, { recursive: true }) as string[]).filter((f) => f.endsWith('.js')).map((f) => join(DRIVER_LIB, f));

describe('the rewrite of a driver file', () => {
  const file = join(DRIVER_LIB, 'collection.js');

  test("makes the listed modules' requires lazy, a directory's included, and leaves the others as they are", () => {
    const source = ['const admin_1 = require("./admin");', 'const db_1 = require("./db");', 'const gridfs_1 = require("./gridfs");', 'function f() { return [admin_1.Admin, db_1.Db, (0, gridfs_1.x)()]; }'].join('\n');
    const lines = deferDriverRequires(source, file).split('\n');
    expect(lines[0]).toBe('const admin_1 = new Proxy({}, { get: (_target, key) => require("./admin")[key] });');
    expect(lines[1]).toBe('const db_1 = require("./db");');
    expect(lines[2]).toBe('const gridfs_1 = new Proxy({}, { get: (_target, key) => require("./gridfs")[key] });');
    expect(lines[3]).toBe('function f() { return [admin_1.Admin, db_1.Db, (0, gridfs_1.x)()]; }');
    // The index's re-exports are `var`s, and stay so.
    expect(deferDriverRequires('var explain_1 = require("./explain");\n', file)).toBe('var explain_1 = new Proxy({}, { get: (_target, key) => require("./explain")[key] });\n');
    expect(driverModuleOf(file, './gridfs')).toBe('gridfs/index');
    expect(driverModuleOf(join(DRIVER_LIB, 'cmap', 'auth', 'scram.js'), '../../utils')).toBe('utils');
  });

  test('refuses a lazy binding used other than by reading a property, naming the file, the binding and what to update', () => {
    for (const use of ['Object.keys(admin_1)', '{ ...admin_1 }', "'Admin' in admin_1", 'g(admin_1)', 'admin_1.Admin = null', 'admin_1.x=1', 'admin_1.n += 1', 'admin_1.o ??= {}']) {
      const source = `const admin_1 = require("./admin");\nfunction f() { return ${use}; }\n`;
      expect(() => deferDriverRequires(source, file)).toThrow(/^collection\.js: `admin_1` \(require\("\.\/admin"\)\) is used other than by reading a property .*LAZY_DRIVER_MODULES/);
    }
    // Comparing a property is a read.
    expect(() => deferDriverRequires('const admin_1 = require("./admin");\nf(x === admin_1.Admin, admin_1.y == 1);\n', file)).not.toThrow();
    // An unlisted module may be used any way at all.
    expect(deferDriverRequires('const db_1 = require("./db");\nf(db_1);\n', file)).toBe('const db_1 = require("./db");\nf(db_1);\n');
  });

  test('every file of the installed driver rewrites, and every listed module is still required by one of them', () => {
    const required = new Set<string>();
    for (const path of driverFiles) {
      const source = readFileSync(path, 'utf8');
      expect(() => deferDriverRequires(source, path)).not.toThrow();
      for (const [, , , specifier] of source.matchAll(DRIVER_REQUIRE)) required.add(driverModuleOf(path, specifier!));
    }
    const files = new Set(driverFiles.map((p) => relative(DRIVER_LIB, p).replace(/\.js$/, '')));
    expect(LAZY_DRIVER_MODULES.filter((m) => !files.has(m))).toEqual([]);
    expect(LAZY_DRIVER_MODULES.filter((m) => !required.has(m))).toEqual([]);
    expect(new Set(LAZY_DRIVER_MODULES).size).toBe(LAZY_DRIVER_MODULES.length);
  });
});

/** What the store does in a role: connect with its index, inserts (one a duplicate), a second target, an unreachable server. */
const EXERCISE = `
import { MongoStore } from ${JSON.stringify(join(ROOT, 'src/backends/mongo-store.ts'))};
import { makeGreeting } from ${JSON.stringify(join(ROOT, 'src/greeting.ts'))};
const [url, deadUrl] = process.argv.slice(2);
const loadedAtImport = [...globalThis.__driverModules];
const first = { database: 'lazy-driver', collection: 'g' + Date.now() };
const second = { ...first, collection: first.collection + '-2' };
const store = new MongoStore(url, { targets: [first], serverSelectionTimeoutMS: 1500 });
await store.connect();
const g = makeGreeting('service-c', 'Hello from the lazy driver test');
const outcomes = await Promise.all([store.insert(first, g), store.insert(first, makeGreeting('service-c', 'another')), store.insert(second, g)]);
outcomes.push(await store.insert(first, g));
const ready = store.isReady();
const dead = new MongoStore(deadUrl, { serverSelectionTimeoutMS: 300 });
const deadOutcome = await dead.insert(first, g).then(String, (err) => err.name);
await Promise.all([store.close(), dead.close()]);
console.log(JSON.stringify({ outcomes, ready, deadOutcome, loadedAtImport, loaded: [...globalThis.__driverModules] }));
`;

interface Exercised {
  outcomes: string[];
  ready: boolean;
  deadOutcome: string;
  loadedAtImport: string[];
  loaded: string[];
}

/** The exercise bundled with `plugins`, each driver module made to note its evaluation, run against the servers. */
async function exercise(dir: string, plugins: typeof BUNDLE.plugins, url: string, deadUrl: string): Promise<Exercised> {
  mkdirSync(dir, { recursive: true });
  const entry = join(dir, 'entry.ts');
  writeFileSync(entry, `globalThis.__driverModules = new Set();\nawait import('./exercise.ts');\n`);
  writeFileSync(join(dir, 'exercise.ts'), EXERCISE);
  const built = await Bun.build({ ...BUNDLE, plugins, entrypoints: [entry], outdir: join(dir, 'out') });
  if (!built.success) throw new AggregateError(built.logs, 'bundling the exercise failed');
  let noted = 0;
  for (const output of built.outputs) {
    const text = (await output.text()).replace(
      /^(\/\/ node_modules\/mongodb\/lib\/(.+)\.js\nvar require_\w+ = __commonJS\(function\([^)]*\) \{)$/gm,
      (all, _head, module: string) => (noted++, `${all}\nglobalThis.__driverModules.add(${JSON.stringify(module)});`),
    );
    writeFileSync(output.path, text);
  }
  expect(noted).toBeGreaterThan(100);
  const run = Bun.spawnSync([process.execPath, join(dir, 'out', 'entry.js'), url, deadUrl], { stderr: 'pipe' });
  if (run.exitCode !== 0) throw new Error(`the exercise failed: ${run.stderr.toString()}`);
  return JSON.parse(run.stdout.toString().trim().split('\n').at(-1)!) as Exercised;
}

await describeWithBackends('a store built as the binary is, against a real server', { mongo: 'use' }, ({ mongo }, { test }) => {
  test(
    'stores, refuses the duplicate, fails on a dead server, and loads none of the listed modules; bundled eagerly, it loads them',
    async () => {
      const scratch = scratchDir();
      try {
        const deadUrl = `mongodb://127.0.0.1:${await freePort()}/`;
        const lazy = await exercise(join(scratch.path, 'lazy'), BUNDLE.plugins, mongo!.url, deadUrl);
        expect(lazy).toMatchObject({ outcomes: ['stored', 'stored', 'stored', 'duplicate'], ready: true, deadOutcome: 'StoreUnavailableError' });
        expect(lazy.loaded.filter((m) => LAZY_DRIVER_MODULES.includes(m))).toEqual([]);
        expect(lazy.loaded.length).toBeGreaterThan(40);

        // The seeded defect: without the plugin, the same exercise loads the listed modules, and the check above would name them.
        const eager = await exercise(join(scratch.path, 'eager'), [], mongo!.url, deadUrl);
        expect(eager.outcomes).toEqual(lazy.outcomes);
        expect(eager.loadedAtImport.filter((m) => LAZY_DRIVER_MODULES.includes(m)).length).toBeGreaterThan(LAZY_DRIVER_MODULES.length * 0.9);
        expect(eager.loadedAtImport.length).toBeGreaterThan(lazy.loadedAtImport.length + 50);
      } finally {
        scratch.dispose();
      }
    },
    60_000,
  );
});
