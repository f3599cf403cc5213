/**
 * The three ways to run the service, as the argv a role process is started with: the compiled binary (what the image ships),
 * Bun on the TypeScript source (the dev loop), and the Node bundle (for hosts without Bun). Stale artifacts are rebuilt first,
 * so a bench never measures yesterday's code.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { ROOT, serviceBinary } from '../test/support/service-binary';
import type { Artifact } from './options';

const NODE_BUNDLE = join(ROOT, 'dist', 'node', 'service.js');

function newestMtime(dir: string): number {
  let newest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    newest = Math.max(newest, entry.isDirectory() ? newestMtime(path) : statSync(path).mtimeMs);
  }
  return newest;
}

function nodeBundle(): string {
  const sources = Math.max(newestMtime(join(ROOT, 'src')), statSync(join(ROOT, 'config', 'services.json')).mtimeMs);
  if (!existsSync(NODE_BUNDLE) || statSync(NODE_BUNDLE).mtimeMs < sources) {
    const built = spawnSync('npm', ['run', '--silent', 'build:node'], { cwd: ROOT, encoding: 'utf8' });
    if (built.status !== 0) throw new Error(`building the Node bundle failed:\n${built.stdout}\n${built.stderr}`);
  }
  return NODE_BUNDLE;
}

export function commandFor(artifact: Artifact): string[] {
  switch (artifact) {
    case 'binary':
      return [serviceBinary()];
    case 'source':
      return [(globalThis as { Bun?: unknown }).Bun ? process.execPath : 'bun', join(ROOT, 'src', 'service.ts')];
    case 'node':
      return ['node', nodeBundle()];
  }
}
