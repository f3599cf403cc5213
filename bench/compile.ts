/**
 * Compiles a small entry point into a single binary exactly as `npm run build:binary` compiles the service
 * (scripts/build/binary.ts, so the comparison binaries cannot drift from how the service is built), into a scratch directory.
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { ROOT } from '../scripts/artifacts';

function bunExecutable(): string {
  return (globalThis as { Bun?: unknown }).Bun ? process.execPath : 'bun';
}

/**
 * A scratch directory under the repository's ignored .cache/: entry points written there resolve packages from the project's
 * node_modules exactly as src/ does. Removed by `dispose`.
 */
export function scratchDir(): { path: string; dispose(): void } {
  mkdirSync(join(ROOT, '.cache'), { recursive: true });
  const path = mkdtempSync(join(ROOT, '.cache', 'bench-'));
  return { path, dispose: () => rmSync(path, { recursive: true, force: true }) };
}

/** Compiles `entry` to `outfile`; returns how long it took. */
export function compile(entry: string, outfile: string): number {
  const started = performance.now();
  const built = spawnSync(bunExecutable(), [join(ROOT, 'scripts', 'build', 'binary.ts'), '--entry', entry, '--outfile', outfile], { cwd: ROOT, encoding: 'utf8' });
  if (built.status !== 0) throw new Error(`compiling ${entry} failed:\n${built.stdout}\n${built.stderr}`);
  return performance.now() - started;
}
