/**
 * The binary's substitutes behave as what they replace: a bundle built with the binary's options (BUNDLE, with the plugin)
 * is compared with the packages as published, which this test process loads as the sources do.
 */
import { afterAll, beforeAll, describe, expect, test } from 'bun:test';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import zlib from 'node:zlib';
import realSaslprep from '@mongodb-js/saslprep';
import type { MongoOptions } from 'mongodb';
import { scratchDir } from '../../../bench/compile';
import { BUNDLE } from '../binary';
import { DEFERRED_REQUIRES, deferRequire } from './index';
import { lateLogStreams } from './driver-log-streams';
import { LAZY_DRIVER_MODULES } from './lazy-driver-modules';

// Required as the driver requires them (the connection-string package's ESM wrapper, under Bun, does not pass the class on);
// the driver's own modules have no declarations of their own.
const RealConnectionString = (require('mongodb-connection-string-url') as typeof import('mongodb-connection-string-url')).ConnectionString;
type ParseOptions = (uri: string) => MongoOptions;
const realParseOptions = (require('mongodb/lib/connection_string') as { parseOptions: ParseOptions }).parseOptions;
const realGetZstdLibrary = (require('mongodb/lib/deps') as { getZstdLibrary(): object }).getZstdLibrary;

interface Bundled {
  saslprep: typeof realSaslprep;
  ConnectionString: typeof RealConnectionString;
  parseOptions: ParseOptions;
  get(url: string): Promise<{ status: number; body: string }>;
  compress(options: { zlibCompressionLevel: number; agreedCompressor: 'zlib' }, data: Buffer): Promise<Buffer>;
  decompress(compressor: number, data: Buffer): Promise<Buffer>;
  getZstdLibrary(): object;
  createStdioLogger(stream: { write(line: string, encoding: string, done: (error?: Error) => void): void }): { write(log: object): Promise<unknown> };
  MongoLogger: { resolveOptions(env: Record<string, string | undefined>, client: Record<string, unknown>): { logDestination: { write(log: object): Promise<unknown> }; logDestinationIsStdErr: boolean } };
  prom: PromModules;
}

/** The prom-client modules whose requires of node:util and node:fs the build defers, as the roles load them (src/telemetry/prom.ts). */
interface PromModules {
  Counter: typeof import('prom-client').Counter;
  Gauge: typeof import('prom-client').Gauge;
  Histogram: typeof import('prom-client').Histogram;
  Summary: typeof import('prom-client').Summary;
  Registry: typeof import('prom-client').Registry;
  sets: ((registry: import('prom-client').Registry) => void)[];
}
const PROM_SETS = ['osMemoryHeap', 'processOpenFileDescriptors', 'processMaxFileDescriptors'];
const promModulesSource = [
  ...['counter', 'gauge', 'histogram', 'summary', 'registry'].map((m) => `import ${m} from 'prom-client/lib/${m}.js';`),
  ...PROM_SETS.map((m) => `import ${m} from 'prom-client/lib/metrics/${m}.js';`),
  `export const prom = { Counter: counter, Gauge: gauge, Histogram: histogram, Summary: summary, Registry: registry, sets: [${PROM_SETS.join(', ')}] };`,
].join('\n');

const scratch = scratchDir();
let bundled: Bundled;
let bundleText = '';
/** gunzipSync calls while the bundle was imported: the real saslprep decompresses its tables at load. */
let gunzipsAtImport = -1;
const gunzips = { count: 0 };
const realGunzip = zlib.gunzipSync;

beforeAll(async () => {
  const entry = join(scratch.path, 'entry.ts');
  writeFileSync(
    entry,
    [
      "export { default as saslprep } from '@mongodb-js/saslprep';",
      // Required, as the driver does (the package's ESM wrapper is another entry to it).
      "export const ConnectionString = require('mongodb-connection-string-url').ConnectionString;",
      "export { parseOptions } from 'mongodb/lib/connection_string';",
      "export { get } from 'mongodb/lib/utils';",
      "export { compress, decompress } from 'mongodb/lib/cmap/wire_protocol/compression';",
      "export { getZstdLibrary } from 'mongodb/lib/deps';",
      "export { createStdioLogger, MongoLogger } from 'mongodb/lib/mongo_logger';",
      promModulesSource,
    ].join('\n'),
  );
  const built = await Bun.build({ ...BUNDLE, entrypoints: [entry], outdir: join(scratch.path, 'out') });
  if (!built.success) throw new AggregateError(built.logs, 'bundling the substitutes failed');
  bundleText = (await Promise.all(built.outputs.map((o) => o.text()))).join('\n');
  zlib.gunzipSync = ((...args: Parameters<typeof realGunzip>) => (gunzips.count++, realGunzip(...args))) as typeof realGunzip;
  bundled = (await import(join(scratch.path, 'out', 'entry.js'))) as Bundled;
  gunzipsAtImport = gunzips.count;
});

afterAll(() => {
  zlib.gunzipSync = realGunzip;
  scratch.dispose();
});

describe("prom-client's node:util and node:fs, loaded on first use", () => {
  const published: PromModules = {
    Counter: require('prom-client/lib/counter.js'),
    Gauge: require('prom-client/lib/gauge.js'),
    Histogram: require('prom-client/lib/histogram.js'),
    Summary: require('prom-client/lib/summary.js'),
    Registry: require('prom-client/lib/registry.js'),
    sets: PROM_SETS.map((m) => require(`prom-client/lib/metrics/${m}.js`)),
  };
  const refusal = (f: () => unknown) => {
    try {
      f();
      return 'accepted';
    } catch (err) {
      return `${(err as Error).name}: ${(err as Error).message}`;
    }
  };
  /** Each misuse that prom-client words with util.format or util.inspect. */
  const misuses = ({ Counter, Gauge, Histogram, Summary, Registry }: PromModules) => {
    const registers = [new Registry()];
    const counter = new Counter({ name: 'c', help: 'h', labelNames: ['a'], registers });
    const gauge = new Gauge({ name: 'g', help: 'h', registers });
    const histogram = new Histogram({ name: 'h', help: 'h', registers });
    const summary = new Summary({ name: 's', help: 'h', registers });
    return [
      refusal(() => counter.inc({ a: 'x' }, 'one' as unknown as number)),
      refusal(() => counter.inc({ b: 'x' } as never)),
      refusal(() => gauge.set('two' as unknown as number)),
      refusal(() => gauge.inc({}, 'x' as unknown as number)),
      refusal(() => histogram.observe(Number.NaN)),
      refusal(() => histogram.observe({ v: 1 } as never, 1)),
      refusal(() => summary.observe(Number.POSITIVE_INFINITY)),
    ];
  };

  test('every misuse is refused in the same words as by the published modules', () => {
    const words = misuses(published);
    expect(words.filter((w) => w === 'accepted')).toEqual([]);
    expect(words).toContain(`Error: Added label "b" is not included in initial labelset: [ 'a' ]`);
    expect(misuses(bundled.prom)).toEqual(words);
  });

  test('the /proc sets report the same series as the published ones, their values read through the deferred node:fs', async () => {
    const series = async ({ Registry, sets }: PromModules) => {
      const registry = new Registry();
      for (const set of sets) set(registry);
      return (await registry.getMetricsAsJSON()).map((m) => ({ name: m.name, values: m.values.length, positive: m.values.every((v) => v.value > 0) }));
    };
    const expected = await series(published);
    expect(expected.map((s) => s.name)).toEqual(expect.arrayContaining(['process_resident_memory_bytes', 'process_open_fds', 'process_max_fds']));
    expect(await series(bundled.prom)).toEqual(expected);
  });

  test("prom-client's modules in the bundle require node:util and node:fs only inside the deferred getter", () => {
    const promCode = bundleText
      .split(/^(?=\/\/ node_modules\/)/m)
      .filter((section) => section.startsWith('// node_modules/prom-client/'))
      .join('\n');
    for (const builtin of ['util', 'fs']) {
      const requires = promCode.split(`__require("${builtin}")`).length - 1;
      const deferred = promCode.split(`get: (_target, key) => __require("${builtin}")[key]`).length - 1;
      expect({ builtin, requires, deferred }).toEqual({ builtin, requires: deferred, deferred: builtin === 'util' ? 5 : 3 });
    }
  });
});

describe('@mongodb-js/saslprep, loaded on its first call', () => {
  test('importing it loads nothing; the first call loads the real module once', () => {
    expect(gunzipsAtImport).toBe(0);
    expect(bundled.saslprep('user')).toBe('user');
    expect(gunzips.count).toBe(1);
    bundled.saslprep('again');
    expect(gunzips.count).toBe(1);
  });

  test("answers and refuses as the real one (RFC 4013's examples, and more)", () => {
    const outcome = (fn: (s: string, o?: { allowUnassigned?: boolean }) => string, input: string, opts?: { allowUnassigned?: boolean }) => {
      try {
        return { value: fn(input, opts) };
      } catch (err) {
        return { error: (err as Error).message };
      }
    };
    const inputs = ['I\u00ADX', 'user', '\u00AA', 'x\u00ADy', '\u2168', 'p\u00A0w d', '\u0007', '\u0627\u0031', '\u0627x\u0628', 'Ünïcödé', '', '\u0221'];
    for (const input of inputs) {
      for (const opts of [undefined, { allowUnassigned: true }]) {
        expect({ input, ...outcome(bundled.saslprep, input, opts) }).toEqual({ input, ...outcome(realSaslprep, input, opts) });
      }
    }
    // The comparison can fail: the cases include refusals and mappings.
    expect(outcome(realSaslprep, '\u0007')).toHaveProperty('error');
    expect(realSaslprep('I\u00ADX')).toBe('IX');
  });
});

/** Connection strings: the driver's own tests' shapes, ours, and malformed ones. */
const CONNECTION_STRINGS = [
  'mongodb://localhost:27017/',
  'mongodb://127.0.0.1:27017,127.0.0.2:27018/db?replicaSet=rs0&readPreference=secondary',
  'mongodb://user:p%40ss%3Aw0rd@host/admin?authSource=admin&authMechanism=SCRAM-SHA-256',
  'mongodb+srv://cluster0.example.net/test?retryWrites=true&w=majority',
  'mongodb://[::1]:27017/?directConnection=true',
  'mongodb://user@host',
  'mongodb://h%C3%A9llo:pw@host/',
  'mongodb://host/db?appName=a%20b&tls=true&tlsCAFile=%2Fetc%2Fca.pem',
  'mongodb://ferretdb:27017/?serverSelectionTimeoutMS=500&heartbeatFrequencyMS=500',
  'mongodb://bücher.example/d%C3%A9?x=ü#frag',
  'mongodb://host/db?REPLICASET=rs&replicaSet=other',
  'mongodb://host:99999/',
  'mongodb://',
  'mongodb://user:pa:ss@host',
  'http://host/',
  'mongodb://host/db?x=%zz',
  'mongodb://hos t/',
  'mongodb://host/d b',
  'mongodb://@host',
  'mongodb+srv://a.example,b.example/',
  // What the URL parser itself cleans up or keeps as it is: control characters, stray percent signs, backslashes.
  'mongodb://host/db#\u0000',
  'mongodb://us\ter@host/\n',
  'mongodb://host/%',
  'mongodb://[::1/',
  'mongodb://host/a\\b?c=%F0%9F%98%80&d=\u00e9',
];

function describeConnectionString(Ctor: typeof RealConnectionString, input: string): unknown {
  try {
    const cs = new Ctor(input);
    const params = cs.searchParams;
    return {
      href: cs.href,
      string: cs.toString(),
      hosts: cs.hosts,
      protocol: cs.protocol,
      username: cs.username,
      password: cs.password,
      pathname: cs.pathname,
      hash: cs.hash,
      isSRV: cs.isSRV,
      params: [...params],
      replicaSet: params.get('replicaset'),
      clone: cs.clone().toString(),
      redacted: cs.redact().toString(),
    };
  } catch (err) {
    return { error: `${(err as Error).name}: ${(err as Error).message}` };
  }
}

function describeOptions(parse: ParseOptions, input: string): unknown {
  try {
    const o = parse(input);
    return {
      hosts: o.hosts.map(String),
      dbName: o.dbName,
      credentials: o.credentials && { username: o.credentials.username, password: o.credentials.password, source: o.credentials.source, mechanism: o.credentials.mechanism },
      replicaSet: o.replicaSet,
      readPreference: o.readPreference.mode,
      tls: o.tls,
      appName: o.appName,
      directConnection: o.directConnection,
      srvHost: o.srvHost,
      serverSelectionTimeoutMS: o.serverSelectionTimeoutMS,
    };
  } catch (err) {
    return { error: `${(err as Error).name}: ${(err as Error).message}` };
  }
}

describe("whatwg-url is the runtime's URL", () => {
  test('mongodb-connection-string-url parses, serialises and refuses every case as with the package', () => {
    for (const input of CONNECTION_STRINGS) {
      expect({ input, parsed: describeConnectionString(bundled.ConnectionString, input) }).toEqual({ input, parsed: describeConnectionString(RealConnectionString, input) });
    }
    // The corpus holds both outcomes, so the comparison covers refusals too.
    const outcomes = CONNECTION_STRINGS.map((s) => describeConnectionString(RealConnectionString, s) as { error?: string });
    expect(outcomes.filter((o) => o.error).length).toBeGreaterThan(3);
    expect(outcomes.filter((o) => !o.error).length).toBeGreaterThan(8);
  });

  test("the driver's options from each connection string are the same", () => {
    for (const input of CONNECTION_STRINGS) {
      expect({ input, options: describeOptions(bundled.parseOptions, input) }).toEqual({ input, options: describeOptions(realParseOptions, input) });
    }
  });

  test('the case-insensitive search parameters still work on the native class', () => {
    const cs = new bundled.ConnectionString('mongodb://host/?AuthSource=admin');
    expect(cs.searchParams.get('authsource')).toBe('admin');
    cs.searchParams.set('AUTHSOURCE', 'other');
    expect([...cs.searchParams]).toEqual([['AuthSource', 'other']]);
    expect(() => ((cs as { host: string }).host = 'x')).toThrow('No single host for connection string');
  });
});

describe("the driver's rarely used built-ins, loaded on first use", () => {
  test("the driver's modules a store loads require node:http, zlib, util and dns only inside the deferred getter", () => {
    // The bundle marks each module's start with a `// node_modules/<path>` comment; the modules that themselves load on
    // first use (lazy-driver-modules.ts: the OIDC token file's reader among them) may require what they like.
    const lazy = new Set(LAZY_DRIVER_MODULES.map((m) => `// node_modules/mongodb/lib/${m}.js`));
    const driverCode = bundleText
      .split(/^(?=\/\/ node_modules\/)/m)
      .filter((section) => section.startsWith('// node_modules/mongodb/') && !lazy.has(section.slice(0, section.indexOf('\n'))))
      .join('\n');
    for (const builtin of ['http', 'zlib', 'util', 'dns']) {
      const requires = driverCode.split(`__require("${builtin}")`).length - 1;
      const deferred = driverCode.split(`get: (_target, key) => __require("${builtin}")[key]`).length - 1;
      expect({ builtin, requires }).toEqual({ builtin, requires: deferred });
    }
    const deferredInStore = DEFERRED_REQUIRES.filter((d) => d.file.startsWith('mongodb/') && !lazy.has(`// node_modules/${d.file}`));
    expect(deferredInStore.length).toBeGreaterThanOrEqual(4);
    expect(driverCode.split('get: (_target, key) => __require(').length - 1).toBe(deferredInStore.length);
  });

  test("the driver's log line is worded through the deferred node:util as by the published driver", async () => {
    const realCreateStdioLogger = (require('mongodb/lib/mongo_logger') as Pick<Bundled, 'createStdioLogger'>).createStdioLogger;
    const line = async (create: Bundled['createStdioLogger']) => {
      let written = '';
      await create({ write: (text, _encoding, done) => ((written += text), done()) }).write({ t: new Date(0), c: 'connection', s: 'debug', message: 'Connection created', nested: { a: [1, 'two'] } });
      return written;
    };
    const expected = await line(realCreateStdioLogger);
    expect(expected).toContain("message: 'Connection created'");
    expect(await line(bundled.createStdioLogger)).toBe(expected);
  });
  test('zstd is found, or reported missing, as without the deferral', () => {
    const kind = (lib: object) => ('kModuleError' in lib ? 'missing' : typeof (lib as { compress?: unknown }).compress);
    expect(kind(bundled.getZstdLibrary())).toBe(kind(realGetZstdLibrary()));
  });

  test('an HTTP GET through the deferred node:http works (cloud credential lookups)', async () => {
    const server = Bun.serve({ hostname: '127.0.0.1', port: 0, fetch: (req) => new Response(`you asked ${new URL(req.url).pathname}`, { status: 203 }) });
    try {
      expect(await bundled.get(`http://127.0.0.1:${server.port}/token`)).toEqual({ status: 203, body: 'you asked /token' });
    } finally {
      server.stop(true);
    }
  });

  test('wire compression through the deferred node:zlib round-trips', async () => {
    const data = Buffer.from('greeting '.repeat(200));
    const packed = await bundled.compress({ zlibCompressionLevel: 6, agreedCompressor: 'zlib' }, data);
    expect(packed.length).toBeLessThan(data.length);
    expect(Buffer.compare(await bundled.decompress(2, packed), data)).toBe(0);
  });

  test('a driver file without the statement, or with it twice, fails the build, naming the file and what to update', () => {
    expect(() => deferRequire('const x = 1;\n', 'mongodb/lib/utils.js', 'http')).toThrow(/mongodb\/lib\/utils\.js: expected one .* found none.*DEFERRED_REQUIRES/);
    const twice = 'const http = require("http");\nconst http = require("http");\n';
    expect(() => deferRequire(twice, 'f.js', 'http')).toThrow(/found several/);
    expect(deferRequire('a;\nconst h = require("http");\nb;', 'f.js', 'http')).toBe('a;\nconst h = new Proxy({}, { get: (_target, key) => require("http")[key] });\nb;');
  });
});

describe("the driver's log streams, looked up when it first logs", () => {
  const realMongoLogger = (require('mongodb/lib/mongo_logger') as Pick<Bundled, 'MongoLogger'>).MongoLogger;
  /** Runs `f` with process.stdout and process.stderr counting their reads and keeping what is written to them. */
  const watchingStdio = async <T>(f: () => Promise<T>) => {
    const reads = { stdout: 0, stderr: 0 };
    const written: string[] = [];
    const saved = { stdout: process.stdout, stderr: process.stderr };
    const fakes = Object.fromEntries(
      (['stdout', 'stderr'] as const).map((name) => [name, { write: (text: string, _encoding: string, done: () => void) => (written.push(`${name} ${text}`), done()) }]),
    );
    for (const name of ['stdout', 'stderr'] as const)
      Object.defineProperty(process, name, { configurable: true, get: () => (reads[name]++, fakes[name]) });
    try {
      return { result: await f(), reads, written };
    } finally {
      for (const name of ['stdout', 'stderr'] as const) Object.defineProperty(process, name, { configurable: true, writable: true, enumerable: true, value: saved[name] });
    }
  };
  const cases = [{}, { MONGODB_LOG_PATH: 'stdout' }, { MONGODB_LOG_PATH: 'STDERR' }, { MONGODB_LOG_PATH: '/tmp/x.log' }].flatMap((env) =>
    [{}, { mongodbLogPath: 'stdout' }, { mongodbLogPath: 'stderr' }].map((client) => ({ env, client })),
  );
  const log = { t: new Date(0), c: 'command', s: 'debug', message: 'Command started' };

  test('each MONGODB_LOG_PATH and mongodbLogPath writes to the same stream, the same line, as the published driver', async () => {
    for (const { env, client } of cases) {
      const through = (logger: Bundled['MongoLogger']) =>
        watchingStdio(async () => {
          const options = logger.resolveOptions(env, client);
          await options.logDestination.write(log);
          return options.logDestinationIsStdErr;
        });
      const expected = await through(realMongoLogger);
      expect(expected.written).toHaveLength(1);
      const got = await through(bundled.MongoLogger);
      expect({ env, client, isStdErr: got.result, written: got.written }).toEqual({ env, client, isStdErr: expected.result, written: expected.written });
    }
  });

  test('resolving where to write reads neither stream; the published driver reads one every time', async () => {
    for (const { env, client } of cases) {
      const resolve = (logger: Bundled['MongoLogger']) => watchingStdio(async () => void logger.resolveOptions(env, client));
      const published = (await resolve(realMongoLogger)).reads;
      expect(published.stdout + published.stderr).toBe(1);
      expect({ env, client, reads: (await resolve(bundled.MongoLogger)).reads }).toEqual({ env, client, reads: { stdout: 0, stderr: 0 } });
    }
  });

  test('a driver whose logger no longer reads the streams that way fails the build, naming the file', () => {
    expect(() => lateLogStreams('createStdioLogger(process.stderr)', 'mongo_logger.js')).toThrow(/mongo_logger\.js: expected createStdioLogger\(process\.stderr\) 4 times, found 1.*driver-log-streams\.ts/);
    const published = readFileSync(require.resolve('mongodb/lib/mongo_logger'), 'utf8');
    expect(lateLogStreams(published, 'mongo_logger.js')).not.toContain('createStdioLogger(process.');
  });
});
