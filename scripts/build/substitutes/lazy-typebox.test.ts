/**
 * TypeBox evaluated on first use (lazy-typebox.ts): the service bundled as the binary is evaluates none of it while its roles
 * serve every route, an app that does declare schemas answers exactly as with the published packages, and the lazy values
 * behave as the values they stand for.
 */
import type { BunPlugin } from 'bun';
import { afterAll, describe, expect, test } from 'bun:test';
import { spawn } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import * as TypeBox from '@sinclair/typebox';
import { scratchDir } from '../../../bench/compile';
import { ROUTES } from '../../../src/http/routes';
import { freePort } from '../../../src/platform/processes';
import { BUNDLE } from '../binary';
import { deferTypebox, TYPEBOX_IMPORTERS, TYPEBOX_SYMBOLS } from './lazy-typebox';
import { lazyGroup } from './lazy-value';

const ROOT = join(import.meta.dir, '..', '..', '..');
const MARK = 'typebox module evaluated:';

/** Every TypeBox module says on stderr when it is evaluated. */
const marker: BunPlugin = {
  name: 'typebox-marker',
  setup(build) {
    build.onLoad({ filter: /@sinclair\/typebox\/build\/esm\/.+\.mjs$/ }, (args) => ({
      contents: `console.error(${JSON.stringify(`${MARK} ${args.path.replace(/.*typebox\//, '')}`)});\n${readFileSync(args.path, 'utf8')}`,
      loader: 'js',
    }));
  },
};

/** The seeded defect: Elysia's and exact-mirror's files as published, taken before the substitutes plugin sees them. */
const published: BunPlugin = {
  name: 'published-typebox-importers',
  setup(build) {
    build.onLoad({ filter: TYPEBOX_IMPORTERS }, (args) => ({ contents: readFileSync(args.path, 'utf8'), loader: 'js' }));
  },
};

const scratch = scratchDir();
afterAll(() => scratch.dispose());

async function bundle(entry: string, name: string, plugins: BunPlugin[]): Promise<string> {
  const outdir = join(scratch.path, name);
  const built = await Bun.build({ ...BUNDLE, plugins: [...plugins, ...BUNDLE.plugins], entrypoints: [entry], outdir });
  if (!built.success) throw new AggregateError(built.logs, `bundling ${entry} failed`);
  return join(outdir, built.outputs.find((o) => o.kind === 'entry-point')!.path.split('/').pop()!);
}

/** Runs `file` with Bun and `env` until `drive` is done with its port; its stderr. */
async function run(file: string, env: Record<string, string>, drive: (base: string) => Promise<void>): Promise<string> {
  const port = await freePort();
  const child = spawn(process.execPath, [file], { cwd: ROOT, env: { ...process.env, ...env, PORT: String(port) }, stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const exited = new Promise((resolve) => child.once('exit', resolve));
  try {
    const base = `http://127.0.0.1:${port}`;
    for (let i = 0; ; i++) {
      if ((await fetch(`${base}/api/health`).catch(() => undefined))?.status === 200) break;
      if (i > 500 || child.exitCode !== null) throw new Error(`${file} did not start: ${stderr}`);
      await Bun.sleep(10);
    }
    await drive(base);
  } finally {
    child.kill('SIGKILL');
    await exited;
  }
  return stderr;
}

/**
 * Every route of the table (with and without an Origin, and POSTed bodies it cannot parse), a preflight, a 404, a 405, a
 * path that does not decode.
 */
async function everyRoute(base: string): Promise<void> {
  const origin = { Origin: 'http://localhost:8080' };
  for (const route of ROUTES) {
    const path = route.path.replace(':code', '418');
    for (const headers of [{}, origin]) await (await fetch(`${base}${path}`, { method: route.method, headers })).arrayBuffer();
    await (await fetch(`${base}${path}`, { method: 'DELETE' })).arrayBuffer();
    for (const [type, body] of [['application/json', '{"not json'], ['application/x-www-form-urlencoded', 'a=1&b'], ['text/plain', 'x'.repeat(70_000)]]) {
      await (await fetch(`${base}${path}`, { method: 'POST', headers: { 'content-type': type! }, body })).arrayBuffer();
    }
  }
  const preflight = { ...origin, 'Access-Control-Request-Method': 'GET' };
  for (const [path, init] of [['/api/greeting', { method: 'OPTIONS', headers: preflight }], ['/nowhere', {}], ['/api/%zz', {}]] as const) {
    await (await fetch(`${base}${path}`, init)).arrayBuffer();
  }
}

const evaluated = (stderr: string) => stderr.split('\n').filter((line) => line.startsWith(MARK));

describe('TypeBox on first use', () => {
  test('the edge and a fan-out role, bundled as the binary is, serve every route without evaluating TypeBox', async () => {
    const service = join(ROOT, 'src', 'service.ts');
    const lazy = await bundle(service, 'service-lazy', [marker]);
    for (const role of ['a', 'b']) expect(evaluated(await run(lazy, { ROLE: role, UPSTREAM_TIMEOUT_MS: '200' }, everyRoute))).toEqual([]);
    // Seeded: the published files evaluate all of TypeBox at start.
    const eager = await bundle(service, 'service-published', [marker, published]);
    expect(evaluated(await run(eager, { ROLE: 'b' }, async () => {})).length).toBeGreaterThan(100);
  }, 120_000);

  test('an app that declares schemas answers exactly as with the published packages', async () => {
    const entry = join(scratch.path, 'schemas.ts');
    writeFileSync(
      entry,
      `import { Elysia, t, ValidationError } from 'elysia';
const app = new Elysia()
  .model({ user: t.Object({ name: t.String({ minLength: 2 }), age: t.Numeric(), tags: t.Optional(t.Array(t.String())) }) })
  .onError(({ code, error }) => ({ code, validation: error instanceof ValidationError, message: String((error as Error).message ?? error) }))
  .get('/api/health', () => ({ alive: true }))
  .post('/user', ({ body }) => body, { body: 'user' })
  .get('/n/:id', ({ params, query }) => ({ id: params.id, q: query.q, list: query.list }), {
    params: t.Object({ id: t.Numeric() }),
    query: t.Object({ q: t.Optional(t.Boolean()), list: t.Optional(t.Array(t.Number())) }),
  })
  .get('/response', ({ query }) => (query.bad ? { a: 'x' } : { a: 1, extra: 2 }), { response: t.Object({ a: t.Number() }) })
  .get('/header', ({ headers }) => ({ n: headers['x-n'] }), { headers: t.Object({ 'x-n': t.Numeric() }) })
  .get('/cookie', ({ cookie }) => ({ c: cookie.c.value }), { cookie: t.Cookie({ c: t.Number() }) })
  .post('/union', ({ body }) => body, { body: t.Union([t.Object({ kind: t.Literal('a'), n: t.Integer() }), t.Object({ kind: t.Literal('b') })]) })
  .get('/plain', () => 'ok');
app.listen({ port: Number(process.env.PORT), hostname: '127.0.0.1' });
`,
    );
    const requests: [string, RequestInit?][] = [
      ['/plain'],
      ['/user', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ name: 'ada', age: '36', tags: ['x'] }) }],
      ['/user', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ name: 'a', age: 'old' }) }],
      ['/user', { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: 'name=bob&age=7' }],
      ['/user', { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{not json' }],
      ['/n/42?q=true&list=1&list=2'],
      ['/n/x'],
      ['/n/7?q=maybe'],
      ['/response'],
      ['/response?bad=1'],
      ['/header', { headers: { 'x-n': '5' } }],
      ['/header', { headers: { 'x-n': 'five' } }],
      ['/cookie', { headers: { cookie: 'c=3' } }],
      ['/cookie', { headers: { cookie: 'c=three' } }],
      ['/union', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ kind: 'a', n: 2 }) }],
      ['/union', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ kind: 'a', n: 2.5 }) }],
      ['/nowhere'],
    ];
    const answers = async (file: string) => {
      const seen: string[] = [];
      const stderr = await run(file, {}, async (base) => {
        for (const [path, init] of requests) {
          const response = await fetch(`${base}${path}`, init);
          seen.push(`${path} ${response.status} ${response.headers.get('content-type')} ${await response.text()}`);
        }
      });
      return { seen, stderr };
    };
    const lazy = await answers(await bundle(entry, 'schemas-lazy', [marker]));
    const eager = await answers(await bundle(entry, 'schemas-published', [marker, published]));
    expect(lazy.seen).toEqual(eager.seen);
    expect(lazy.seen.filter((line) => / 422 /.test(line)).length).toBeGreaterThanOrEqual(7);
    // The schemas did load TypeBox, on first use.
    expect(evaluated(lazy.stderr).length).toBeGreaterThan(100);
  }, 120_000);

  test("TypeBox's kind symbols are the registry symbols the rewrite declares", () => {
    for (const [name, key] of Object.entries(TYPEBOX_SYMBOLS)) expect((TypeBox as unknown as Record<string, symbol>)[name]).toBe(Symbol.for(key));
  });

  test('a form of import it does not know, or an expression no longer there, fails the build naming the file', async () => {
    const elysia = join(ROOT, 'node_modules', 'elysia', 'dist');
    await expect(deferTypebox(`import * as T from "@sinclair/typebox";\nexport const x = T;\n`, join(elysia, 'schema.mjs'))).rejects.toThrow(
      /elysia\/dist\/schema\.mjs: expected only `import \{ \.\.\. \} from` TypeBox/,
    );
    const index = readFileSync(join(elysia, 'index.mjs'), 'utf8');
    await expect(deferTypebox(index.replace('t.Module({})', 't.Module({ })'), join(elysia, 'index.mjs'))).rejects.toThrow(/elysia\/dist\/index\.mjs: expected one "t\.Module\(\{\}\)", found 0/);
    await expect(deferTypebox(`import { Nothing } from "@sinclair/typebox/value";\n`, join(elysia, 'error.mjs'))).rejects.toThrow(/error\.mjs: expected @sinclair\/typebox\/value to export Nothing/);
    // A file that imports neither is left as it is.
    const trace = readFileSync(join(elysia, 'trace.mjs'), 'utf8');
    expect(await deferTypebox(trace, join(elysia, 'trace.mjs'))).toBe(trace);
  });
});

describe('lazy values', () => {
  test('loads once, on the first use of any kind, and answers as the value', () => {
    const lazyValue = lazyGroup();
    let loads = 0;
    const object = lazyValue(() => (loads++, { a: 1, nested: { b: 2 } }), 'object') as { a: number; nested: { b: number }; c?: number };
    expect(typeof object).toBe('object');
    expect(loads).toBe(0);
    expect(object.a).toBe(1);
    expect({ ...object }).toEqual({ a: 1, nested: { b: 2 } });
    expect(Object.assign({}, object)).toEqual({ a: 1, nested: { b: 2 } });
    expect('nested' in object).toBe(true);
    object.c = 3;
    expect(object.c).toBe(3);
    expect(loads).toBe(1);

    const list = lazyValue(() => [1, 2, 3], 'array') as number[];
    expect(Array.isArray(list)).toBe(true);
    expect([...list]).toEqual([1, 2, 3]);
    expect(list.length).toBe(3);
    expect(list.map((n) => n * 2)).toEqual([2, 4, 6]);
    expect(Object.getOwnPropertyDescriptor(list, 'length')?.value).toBe(3);
    expect(Object.keys(list)).toEqual(['0', '1', '2']);

    const fn = lazyValue(() => (x: number) => x + 1, 'function') as (x: number) => number;
    expect(typeof fn).toBe('function');
    expect(fn(1)).toBe(2);
  });

  test('a class: instanceof answers false without loading while nothing of its group has loaded, then as the class does', () => {
    const lazyValue = lazyGroup();
    let loads = 0;
    class Real extends Error {
      constructor(readonly detail: string) {
        super(detail);
      }
    }
    const Lazy = lazyValue(() => (loads++, Real), 'function') as typeof Real;
    const before = new Real('made elsewhere');
    expect(before instanceof Lazy).toBe(false);
    expect(new Error('x') instanceof Lazy).toBe(false);
    expect(loads).toBe(0);
    const made = new Lazy('made lazily');
    expect(loads).toBe(1);
    expect(made).toBeInstanceOf(Real);
    expect(made.detail).toBe('made lazily');
    expect(made instanceof Lazy).toBe(true);
    expect(new Error('x') instanceof Lazy).toBe(false);
    class Sub extends Lazy {}
    expect(new Sub('sub')).toBeInstanceOf(Real);
    // Another value of the group loaded first: an instance made through it is one of this class too, unloaded as it is.
    const pair = lazyGroup();
    const LazyAgain = pair(() => Real, 'function') as typeof Real;
    const make = pair(() => (detail: string) => new Real(detail), 'function') as (detail: string) => Real;
    expect(make('through the module') instanceof LazyAgain).toBe(true);
  });
});
