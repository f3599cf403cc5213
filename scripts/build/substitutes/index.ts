/**
 * What the binary bundles in place of some of the MongoDB driver's dependencies, and which requires of packages it defers to
 * first use: the driver's of Node built-ins and of its own modules that a store never runs (lazy-driver-modules.ts), and
 * prom-client's of the OpenTelemetry API, node:util and node:fs; bson's 17 MB serialization buffer, allocated when a
 * document needs it (bson-buffer.ts); bson's and long's WebAssembly helpers, instantiated on first use (late-wasm.ts); and
 * the driver's log streams, looked up when it first logs (driver-log-streams.ts); and TypeBox, which Elysia imports for
 * schemas no route of ours declares, evaluated on first use (lazy-typebox.ts).
 * The driver loads all of them whenever it is imported, so every start of a MongoDB role (C, F, G, H) paid for them,
 * although a role uses them rarely or never. Measured compiled, role C's exec to first 200: 48 -> 37 ms, and 5 MB less RSS
 * (README, "Performance"). prom-client's CPU metric loaded the API in every role, and its metric classes node:util and its
 * /proc sets node:fs (start-imports.test.ts now fails if a start loads any of them).
 *
 * Only the binary is built with this plugin: the sources (`bun src/...`, the tests) and the Node bundle use the packages as
 * published. substitutes.test.ts checks that each substitute behaves as what it replaces, and the build fails when a deferred
 * require is no longer where it was (a new driver version), instead of silently bundling it eagerly again.
 */
import type { BunPlugin } from 'bun';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { BSON_FILES, lateBsonBuffer } from './bson-buffer';
import { BSON_WASM, lateWasm, LONG_FILE, LONG_WASM } from './late-wasm';
import { DRIVER_LOGGER_FILE, lateLogStreams } from './driver-log-streams';
import { lazyBinding } from './lazy-binding';
import { deferDriverRequires } from './lazy-driver-modules';
import { deferTypebox, TYPEBOX_IMPORTERS } from './lazy-typebox';

/** A package replaced by a file of this directory, wherever it is imported from (except from that file itself). */
export const SUBSTITUTES: Record<string, string> = {
  // Its Unicode tables, decompressed at load: 6 ms and 16 MB. Used only to log in with SCRAM-SHA-256 and a password.
  '@mongodb-js/saslprep': 'lazy-saslprep.cjs',
  // A pure-JavaScript WHATWG URL with its IDNA table (3 ms, 8 MB), for mongodb-connection-string-url: the runtime has one.
  'whatwg-url': 'native-whatwg-url.cjs',
};

/**
 * `const <name> = require("<module>");` statements of package files, each made a getter that loads the module when first
 * read: built-ins of the driver and of prom-client, and one package.
 */
export const DEFERRED_REQUIRES: { file: string; module: string }[] = [
  // An HTTP GET for cloud credentials (OIDC on Azure and GCP, AWS): node:http is about 2 ms of a start.
  { file: 'mongodb/lib/utils.js', module: 'http' },
  // Wire compression, used only with compressors=zlib or zstd in the connection string.
  { file: 'mongodb/lib/cmap/wire_protocol/compression.js', module: 'zlib' },
  { file: 'mongodb/lib/deps.js', module: 'zlib' },
  // util words the driver's own log lines (MONGODB_LOG_*), DNS resolves a mongodb+srv:// string: once node:net is loaded,
  // 0.2-0.5 and 0.1-0.2 ms of a MongoDB role's start (compiled). node:fs stays: the handshake looks for /.dockerenv.
  { file: 'mongodb/lib/mongo_logger.js', module: 'util' },
  { file: 'mongodb/lib/connection_string.js', module: 'dns' },
  // prom-client's CPU counters read the OpenTelemetry API only for exemplars, which the roles do not enable on them; eagerly,
  // this one require loaded the API in every role, tracing off included (1.7-1.9 ms of each start).
  { file: 'prom-client/lib/metrics/processCpuTotal.js', module: '@opentelemetry/api' },
  // util words a refused value (util.format, util.inspect): about 1 ms of every start, for an error no role makes.
  ...['counter', 'gauge', 'histogram', 'summary', 'validation'].map((m) => ({ file: `prom-client/lib/${m}.js`, module: 'util' })),
  // fs reads /proc at a scrape (process_max_fds at registration, which src/telemetry/prom.ts moves after the first answer or to the first scrape).
  ...['osMemoryHeapLinux', 'processOpenFileDescriptors', 'processMaxFileDescriptors'].map((m) => ({ file: `prom-client/lib/metrics/${m}.js`, module: 'fs' })),
];

const escape = (s: string) => s.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');

/** The statement's lazy form (lazy-binding.ts). */
export function deferRequire(source: string, file: string, module: string): string {
  const statement = new RegExp(`^const (\\w+) = require\\((["'])${escape(module)}\\2\\);$`, 'm');
  const found = statement.exec(source);
  if (!found || source.split(found[0]).length !== 2) {
    throw new Error(
      `${file}: expected one \`const … = require("${module}");\` to defer, found ${found ? 'several' : 'none'}: the package changed; ` +
        'update DEFERRED_REQUIRES in scripts/build/substitutes/index.ts',
    );
  }
  return source.replace(statement, lazyBinding(found[1]!, module));
}

export const substitutes: BunPlugin = {
  name: 'greeting-mesh-substitutes',
  setup(build) {
    const specifiers = new RegExp(`^(${Object.keys(SUBSTITUTES).map(escape).join('|')})$`);
    build.onResolve({ filter: specifiers }, (args) => {
      const file = join(import.meta.dir, SUBSTITUTES[args.path]!);
      // The substitute's own require of the real package resolves as usual.
      return args.importer === file ? undefined : { path: file };
    });
    // One hook for both kinds of file: Bun gives a file to the first onLoad whose filter matches it.
    const files = new RegExp(`node_modules/(${DEFERRED_REQUIRES.map((d) => escape(d.file)).join('|')}|mongodb/lib/.+\\.js)$`);
    build.onLoad({ filter: files }, (args) => {
      const file = files.exec(args.path)![1]!;
      let source = readFileSync(args.path, 'utf8');
      for (const d of DEFERRED_REQUIRES) if (d.file === file) source = deferRequire(source, file, d.module);
      if (file.startsWith('mongodb/lib/')) source = deferDriverRequires(source, args.path);
      if (file === DRIVER_LOGGER_FILE) source = lateLogStreams(source, args.path);
      return { contents: source, loader: 'js' };
    });
    build.onLoad({ filter: BSON_FILES }, (args) => ({ contents: lateWasm(lateBsonBuffer(readFileSync(args.path, 'utf8'), args.path), args.path, BSON_WASM), loader: 'js' }));
    build.onLoad({ filter: TYPEBOX_IMPORTERS }, async (args) => ({ contents: await deferTypebox(readFileSync(args.path, 'utf8'), args.path), loader: 'js' }));
    build.onLoad({ filter: LONG_FILE }, (args) => ({ contents: lateWasm(readFileSync(args.path, 'utf8'), args.path, LONG_WASM), loader: 'js' }));
  },
};
