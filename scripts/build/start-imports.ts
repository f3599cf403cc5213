/**
 * The Node built-ins the binary loads before its first line runs: those its entry chunk imports statically. Bun links and
 * evaluates them at every start, whether or not the code that uses them ever runs (node:http with node:https cost about
 * 3 ms of a role's start here), so the Node bundle's server and client, the trace exporters, the drivers and gRPC are reached
 * through import() and, built with --splitting (build:binary's flags), live in chunks loaded on first use.
 *
 *   bun scripts/build/start-imports.ts [entry]      prints them, one per line (default src/service.ts)
 */
import { builtinModules } from 'node:module';
import { join } from 'node:path';

const ROOT = join(import.meta.dir, '..', '..');

/** Built-ins a role without tracing, drivers or gRPC has no use for: network servers and clients, streams, compression. */
export const DEFERRED_BUILTINS = ['http', 'https', 'http2', 'net', 'tls', 'dgram', 'stream', 'zlib', 'cluster', 'child_process', 'worker_threads'];

const builtins = new Set(builtinModules);

/** The built-in modules `entry`'s chunk imports statically, bundled as build:binary bundles (ESM, split), without node:. */
export async function startImports(entry: string): Promise<string[]> {
  const built = await Bun.build({ entrypoints: [entry], target: 'bun', format: 'esm', splitting: true });
  if (!built.success) throw new AggregateError(built.logs, `bundling ${entry} failed`);
  const chunk = built.outputs.find((o) => o.kind === 'entry-point');
  if (!chunk) throw new Error(`bundling ${entry} produced no entry chunk`);
  const found = new Set<string>();
  for (const [, specifier] of (await chunk.text()).matchAll(/^import\s(?:[^'"]*?\sfrom\s)?["']([^"']+)["'];?$/gm)) {
    const name = specifier!.replace(/^node:/, '');
    if (builtins.has(name) || specifier!.startsWith('node:')) found.add(name);
  }
  return [...found].sort();
}

if (import.meta.main) for (const name of await startImports(process.argv[2] ?? join(ROOT, 'src', 'service.ts'))) console.log(name);
