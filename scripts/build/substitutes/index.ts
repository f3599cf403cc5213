/**
 * What the binary bundles in place of some of the MongoDB driver's dependencies, and which of the driver's requires of Node
 * built-ins it defers to first use. The driver loads all of them whenever it is imported, so every start of a MongoDB role (C,
 * F, G, H) paid for them, although a role uses them rarely or never. Measured compiled, role C's exec to first 200: 48 -> 37 ms,
 * and 5 MB less RSS (README, "Performance").
 *
 * Only the binary is built with this plugin: the sources (`bun src/...`, the tests) and the Node bundle use the packages as
 * published. substitutes.test.ts checks that each substitute behaves as what it replaces, and the build fails when a deferred
 * require is no longer where it was (a new driver version), instead of silently bundling it eagerly again.
 */
import type { BunPlugin } from 'bun';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

/** A package replaced by a file of this directory, wherever it is imported from (except from that file itself). */
export const SUBSTITUTES: Record<string, string> = {
  // Its Unicode tables, decompressed at load: 6 ms and 16 MB. Used only to log in with SCRAM-SHA-256 and a password.
  '@mongodb-js/saslprep': 'lazy-saslprep.cjs',
  // A pure-JavaScript WHATWG URL with its IDNA table (3 ms, 8 MB), for mongodb-connection-string-url: the runtime has one.
  'whatwg-url': 'native-whatwg-url.cjs',
};

/** `const <name> = require("<builtin>");` statements of driver files, each made a getter that loads the built-in when first read. */
export const DEFERRED_REQUIRES: { file: string; builtin: string }[] = [
  // An HTTP GET for cloud credentials (OIDC on Azure and GCP, AWS): node:http is about 2 ms of a start.
  { file: 'mongodb/lib/utils.js', builtin: 'http' },
  // Wire compression, used only with compressors=zlib or zstd in the connection string.
  { file: 'mongodb/lib/cmap/wire_protocol/compression.js', builtin: 'zlib' },
  { file: 'mongodb/lib/deps.js', builtin: 'zlib' },
];

const escape = (s: string) => s.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');

/** The statement's lazy form: every property read goes to the module, which `require` loads once and then caches. */
export function deferRequire(source: string, file: string, builtin: string): string {
  const statement = new RegExp(`^const (\\w+) = require\\("${escape(builtin)}"\\);$`, 'm');
  const found = statement.exec(source);
  if (!found || source.split(found[0]).length !== 2) {
    throw new Error(
      `${file}: expected one \`const … = require("${builtin}");\` to defer, found ${found ? 'several' : 'none'}: the package changed; ` +
        'update DEFERRED_REQUIRES in scripts/build/substitutes/index.ts',
    );
  }
  return source.replace(statement, `const $1 = new Proxy({}, { get: (_target, key) => require("${builtin}")[key] });`);
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
    const files = new RegExp(`node_modules/(${DEFERRED_REQUIRES.map((d) => escape(d.file)).join('|')})$`);
    build.onLoad({ filter: files }, (args) => {
      const file = files.exec(args.path)![1]!;
      let source = readFileSync(args.path, 'utf8');
      for (const d of DEFERRED_REQUIRES) if (d.file === file) source = deferRequire(source, file, d.builtin);
      return { contents: source, loader: 'js' };
    });
  },
};
