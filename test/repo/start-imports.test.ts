/**
 * A role starts without loading what it does not use: the binary's entry chunk imports no network, stream or compression
 * built-in statically (scripts/build/start-imports.ts says why that costs every start), and the check sees one when it is there.
 */
import { describe, expect, test } from 'bun:test';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { binaryBuildFlags, scratchDir } from '../../bench/compile';
import { DEFERRED_BUILTINS, startImports } from '../../scripts/build/start-imports';

const SERVICE = join(import.meta.dir, '..', '..', 'src', 'service.ts');

describe('what the binary loads at start', () => {
  test('build:binary splits the bundle, so code reached through import() loads on first use', () => {
    expect(binaryBuildFlags()).toContain('--splitting');
  });

  test('the service imports none of the deferred built-ins statically', async () => {
    const eager = await startImports(SERVICE);
    expect(eager.filter((name) => DEFERRED_BUILTINS.includes(name))).toEqual([]);
  });

  test('a static import of node:http is found, one through import() is not', async () => {
    const scratch = scratchDir();
    try {
      const lazy = join(scratch.path, 'lazy.ts');
      writeFileSync(lazy, `import { request } from 'node:https';\nexport const call = request;\n`);
      const entry = join(scratch.path, 'entry.ts');
      writeFileSync(entry, `import { createServer } from 'node:http';\nimport * as zlib from 'zlib';\nexport const s = [createServer, zlib];\nexport const later = () => import('./lazy');\n`);
      expect(await startImports(entry)).toEqual(['http', 'zlib']);
    } finally {
      scratch.dispose();
    }
  });
});
