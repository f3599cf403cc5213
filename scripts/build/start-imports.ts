/**
 * What the binary links and loads at start, as build:binary bundles it (binary.ts's BUNDLE: ESM, split, its export conditions):
 *
 * - startImports: the Node built-ins a start loads: those the chunks it loads import statically, and those a CommonJS module
 *   of them requires in its body. Bun links and evaluates them at every start, whether or not the code that uses them ever
 *   runs (node:http with node:https cost about 3 ms of a role's start here, node:fs and node:util about 1 ms each), so the
 *   Node bundle's server and client, the trace exporters, the drivers and gRPC are reached through import() and, with
 *   --splitting, live in chunks loaded on first use; the binary's build defers prom-client's requires of node:fs and
 *   node:util to first use (substitutes/index.ts).
 * - commonJsBuilds: the packages bundled from their CommonJS build although they ship an ESM one. One `require` of such a
 *   package anywhere made Bun's bundler link every import of it to the CommonJS build, read through a property getter at each
 *   use: for @opentelemetry/api (required by prom-client's CPU metric and OpenTelemetry's own CommonJS files) that getter was
 *   11-12% of a role's CPU with tracing on. build:binary's `module` condition (binary.ts) resolves those requires to the ESM build.
 *
 * - startPackages: the packages a start loads (the entry chunk and the chunks it imports statically): none of the tracing
 *   packages, which a role loads only when it traces, nor TypeBox.
 *
 *   bun scripts/build/start-imports.ts [entry]      prints all three (default src/service.ts)
 */
import { builtinModules } from 'node:module';
import { basename, join } from 'node:path';
import { BUNDLE } from './binary';

const ROOT = join(import.meta.dir, '..', '..');

/**
 * Built-ins a role without tracing, drivers or gRPC has no use for at start: network servers and clients, streams,
 * compression; files and util's formatting, which it needs only to read a config file, to read /proc for a scrape or to
 * word an error.
 */
export const DEFERRED_BUILTINS = ['http', 'https', 'http2', 'net', 'tls', 'dgram', 'stream', 'zlib', 'cluster', 'child_process', 'worker_threads', 'fs', 'fs/promises', 'util'];

const builtins = new Set(builtinModules);

async function bundle(entry: string) {
  const built = await Bun.build({ ...BUNDLE, entrypoints: [entry] });
  if (!built.success) throw new AggregateError(built.logs, `bundling ${entry} failed`);
  return built.outputs;
}

/**
 * The built-in modules a start of `entry` loads, without node:: imported by a chunk loaded at start, or required at the top
 * of a CommonJS module's body there (`  var x = __require("fs");` in the bundler's wrapper, which runs when the module is
 * first required; a require inside a function, or the build's deferred binding, does not count).
 */
export async function startImports(entry: string): Promise<string[]> {
  const found = new Set<string>();
  for (const text of (await startChunks(entry)).values()) {
    const statics = [...text.matchAll(/^import\s(?:[^'"]*?\sfrom\s)?["']([^"']+)["'];?$/gm)].map((m) => m[1]!);
    for (const specifier of [...statics, ...commonJsBodyRequires(text)]) {
      const name = specifier.replace(/^node:/, '');
      if (builtins.has(name) || specifier.startsWith('node:')) found.add(name);
    }
  }
  return [...found].sort();
}

/**
 * Packages a role has no use for at start, which must not be loaded then: the tracing packages for a role without tracing
 * (the API alone was 1.7-1.9 ms of it), and TypeBox, which only a schema needs and no route of ours declares (Elysia's
 * imports of it load on first use in the binary: substitutes/lazy-typebox.ts).
 */
export const DEFERRED_PACKAGES = ['@opentelemetry/api', '@opentelemetry/sdk-trace-base', '@opentelemetry/sdk-trace', '@opentelemetry/context-async-hooks', '@sinclair/typebox'];

/**
 * The packages whose modules a start loads: those in the entry chunk and in every chunk it loads at once, found by the
 * `// node_modules/<package>/...` comment the bundler puts before each module. A chunk is loaded at once when a loaded chunk
 * imports it statically, or when a CommonJS module of a loaded chunk requires it in its body (`var x = import.meta.require(...)`,
 * which the bundler writes for a require of an ESM module: it runs when that module does, at start); not when a require sits
 * inside a function, nor through import().
 */
export async function startPackages(entry: string): Promise<string[]> {
  const packages = new Set<string>();
  for (const text of (await startChunks(entry)).values()) for (const [, name] of text.matchAll(/^\/\/ node_modules\/((?:@[^/]+\/)?[^/]+)\//gm)) packages.add(name!);
  return [...packages].sort();
}

/** The modules the CommonJS wrappers of a chunk (`var require_x = __commonJS((exports, module) => {` ... `});`) require in their body. */
function commonJsBodyRequires(text: string): string[] {
  const found: string[] = [];
  let inWrapper = false;
  for (const line of text.split('\n')) {
    if (/^var \w+ = __commonJS\(/.test(line)) inWrapper = true;
    else if (line === '});') inWrapper = false;
    else if (inWrapper) {
      const eager = /^ {2}(?:var|let|const) (?:\w+|\{[^}]*\}) = __require\("([^"]+)"\)(?:\.\w+)?;$/.exec(line);
      if (eager) found.push(eager[1]!);
    }
  }
  return found;
}

/** The text of each chunk a start loads, by file name (see startPackages). */
async function startChunks(entry: string): Promise<Map<string, string>> {
  const outputs = await bundle(entry);
  const texts = new Map(await Promise.all(outputs.map(async (o) => [basename(o.path), await o.text()] as const)));
  const first = outputs.find((o) => o.kind === 'entry-point');
  if (!first) throw new Error(`bundling ${entry} produced no entry chunk`);
  const loaded = new Map([[basename(first.path), texts.get(basename(first.path))!]]);
  for (const pending = [...loaded.keys()]; pending.length > 0; ) {
    for (const [, chunk] of texts.get(pending.pop()!)!.matchAll(/^(?:import\s(?:[^'"]*?\sfrom\s)?|\s*var \w+ = import\.meta\.require\()["']\.\/([^"']+)["']\)?;?$/gm)) {
      if (texts.has(chunk!) && !loaded.has(chunk!)) loaded.set(chunk!, texts.get(chunk!)!), pending.push(chunk!);
    }
  }
  return loaded;
}

/**
 * Packages of `packages` bundled as CommonJS: the index of their CommonJS build (build/src/, beside the ESM one in build/esm/)
 * is in the bundle. A single file of it taken on purpose (w3c.ts takes core's TraceState so) does not count.
 */
export async function commonJsBuilds(entry: string, packages: string[]): Promise<string[]> {
  const texts = await Promise.all((await bundle(entry)).map((o) => o.text()));
  return packages.filter((p) => texts.some((t) => t.includes(`// node_modules/${p}/build/src/index.js`)));
}

/** The OpenTelemetry packages the roles import (ESM) that CommonJS code also requires. */
export const ESM_PACKAGES = ['@opentelemetry/api', '@opentelemetry/core', '@opentelemetry/otlp-exporter-base'];

if (import.meta.main) {
  const entry = process.argv[2] ?? join(ROOT, 'src', 'service.ts');
  console.log(`built-ins imported at start: ${(await startImports(entry)).join(', ') || 'none'}`);
  console.log(`bundled as CommonJS: ${(await commonJsBuilds(entry, ESM_PACKAGES)).join(', ') || 'none'}`);
  console.log(`packages loaded at start: ${(await startPackages(entry)).join(', ') || 'none'}`);
}
