/**
 * What the binary links and loads at start, as build:binary bundles it (binary.ts's BUNDLE: ESM, split, its export conditions):
 *
 * - startImports: the Node built-ins the entry chunk imports statically. Bun links and evaluates them at every start, whether
 *   or not the code that uses them ever runs (node:http with node:https cost about 3 ms of a role's start here), so the Node
 *   bundle's server and client, the trace exporters, the drivers and gRPC are reached through import() and, with
 *   --splitting, live in chunks loaded on first use.
 * - commonJsBuilds: the packages bundled from their CommonJS build although they ship an ESM one. One `require` of such a
 *   package anywhere made Bun's bundler link every import of it to the CommonJS build, read through a property getter at each
 *   use: for @opentelemetry/api (required by prom-client's CPU metric and OpenTelemetry's own CommonJS files) that getter was
 *   11-12% of a role's CPU with tracing on. build:binary's `module` condition (binary.ts) resolves those requires to the ESM build.
 *
 *   bun scripts/build/start-imports.ts [entry]      prints both (default src/service.ts)
 */
import { builtinModules } from 'node:module';
import { join } from 'node:path';
import { BUNDLE } from './binary';

const ROOT = join(import.meta.dir, '..', '..');

/** Built-ins a role without tracing, drivers or gRPC has no use for: network servers and clients, streams, compression. */
export const DEFERRED_BUILTINS = ['http', 'https', 'http2', 'net', 'tls', 'dgram', 'stream', 'zlib', 'cluster', 'child_process', 'worker_threads'];

const builtins = new Set(builtinModules);

async function bundle(entry: string) {
  const built = await Bun.build({ ...BUNDLE, entrypoints: [entry] });
  if (!built.success) throw new AggregateError(built.logs, `bundling ${entry} failed`);
  return built.outputs;
}

/** The built-in modules `entry`'s chunk imports statically, without node:. */
export async function startImports(entry: string): Promise<string[]> {
  const chunk = (await bundle(entry)).find((o) => o.kind === 'entry-point');
  if (!chunk) throw new Error(`bundling ${entry} produced no entry chunk`);
  const found = new Set<string>();
  for (const [, specifier] of (await chunk.text()).matchAll(/^import\s(?:[^'"]*?\sfrom\s)?["']([^"']+)["'];?$/gm)) {
    const name = specifier!.replace(/^node:/, '');
    if (builtins.has(name) || specifier!.startsWith('node:')) found.add(name);
  }
  return [...found].sort();
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
}
