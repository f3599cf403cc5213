/**
 * The compiled single binary the end-to-end tests run, rebuilt when any source is newer than it (so a test never exercises a
 * stale artifact). CI builds it before the tests; a developer's first `npm test` builds it here.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';

export const ROOT = join(import.meta.dir, '..', '..');
export const BINARY = join(ROOT, 'dist', 'greeting-mesh');

function newestSource(dir: string): number {
  let newest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    newest = Math.max(newest, entry.isDirectory() ? newestSource(path) : statSync(path).mtimeMs);
  }
  return newest;
}

export function serviceBinary(): string {
  const sources = Math.max(newestSource(join(ROOT, 'src')), statSync(join(ROOT, 'config', 'services.json')).mtimeMs);
  if (!existsSync(BINARY) || statSync(BINARY).mtimeMs < sources) {
    const built = spawnSync('npm', ['run', '--silent', 'build:binary'], { cwd: ROOT, encoding: 'utf8' });
    if (built.status !== 0) throw new Error(`building the binary failed:\n${built.stdout}\n${built.stderr}`);
  }
  return BINARY;
}
