/**
 * The built artifacts the end-to-end tests and the benchmark run, rebuilt when any source is newer than they are (so a test
 * never exercises a stale artifact). CI builds them before the tests; a developer's first `npm test` builds them here. Shared by
 * the tests and the benchmark.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';

export const ROOT = join(import.meta.dir, '..');
export const BINARY = join(ROOT, 'dist', 'greeting-mesh');
export const NODE_BUNDLE = join(ROOT, 'dist', 'node', 'service.js');

function newestSource(dir: string): number {
  let newest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    newest = Math.max(newest, entry.isDirectory() ? newestSource(path) : statSync(path).mtimeMs);
  }
  return newest;
}

/** `artifact`, rebuilt with `npm run <script>` first when it is missing or older than the sources, the config or the build scripts. */
export function freshArtifact(artifact: string, script: string): string {
  const sources = Math.max(newestSource(join(ROOT, 'src')), newestSource(join(ROOT, 'scripts', 'build')), statSync(join(ROOT, 'config', 'services.json')).mtimeMs);
  if (!existsSync(artifact) || statSync(artifact).mtimeMs < sources) {
    const built = spawnSync('npm', ['run', '--silent', script], { cwd: ROOT, encoding: 'utf8' });
    if (built.status !== 0) throw new Error(`npm run ${script} failed:\n${built.stdout}\n${built.stderr}`);
  }
  return artifact;
}

export const serviceBinary = () => freshArtifact(BINARY, 'build:binary');
/** dist/greeting-mesh-linux-<arch>, both built by one `npm run build:binaries` (scripts/build/binaries.ts). */
export const linuxBinary = (arch: 'x64' | 'arm64') => freshArtifact(join(ROOT, 'dist', `greeting-mesh-linux-${arch}`), 'build:binaries');
export const nodeBundle = () => freshArtifact(NODE_BUNDLE, 'build:node');
