/**
 * The three ways to run the service, as the argv a role process is started with: the compiled binary (what the image ships),
 * Bun on the TypeScript source (the dev loop), and the Node bundle (for hosts without Bun). Stale artifacts are rebuilt first,
 * so a bench never measures yesterday's code.
 */
import { join } from 'node:path';
import { nodeBundle, ROOT, serviceBinary } from '../scripts/artifacts';
import type { Artifact } from './options';

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
