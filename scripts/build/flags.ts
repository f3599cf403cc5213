/**
 * The flags `npm run build:binary` compiles with, read from package.json: every other compile (the cross-compiled binaries,
 * the bench's comparison binaries, the start-up checks) uses these, so they cannot drift from how the service is built.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

const ROOT = join(import.meta.dir, '..', '..');

/** The `bun build` arguments of the build:binary script, without its entry point and --outfile. */
export function binaryBuildFlags(): string[] {
  const script = (JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { scripts: Record<string, string> }).scripts['build:binary']!;
  const words = script.split(/\s+/);
  if (words[0] !== 'bun' || words[1] !== 'build') throw new Error(`build:binary is not a bun build command: ${script}`);
  const flags: string[] = [];
  for (let i = 2; i < words.length; i++) {
    if (words[i] === '--outfile') i++;
    else if (words[i]!.startsWith('--')) flags.push(words[i]!);
  }
  return flags;
}

/** The export conditions build:binary resolves packages with (`--conditions=a,b`). */
export function binaryConditions(): string[] {
  return binaryBuildFlags().flatMap((f) => (f.startsWith('--conditions=') ? f.slice('--conditions='.length).split(',') : []));
}
