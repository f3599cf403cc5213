/**
 * A role starts without loading what it does not use: the binary's entry chunk imports no network, stream or compression
 * built-in statically (scripts/build/start-imports.ts says why that costs every start), loads no tracing package (the
 * OpenTelemetry API included) until a role traces, and each check sees what it looks for when it is there.
 */
import { describe, expect, test } from 'bun:test';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { scratchDir } from '../../bench/compile';
import { BUNDLE } from '../../scripts/build/binary';
import { commonJsBuilds, DEFERRED_BUILTINS, DEFERRED_PACKAGES, ESM_PACKAGES, startImports, startPackages } from '../../scripts/build/start-imports';

const SERVICE = join(import.meta.dir, '..', '..', 'src', 'service.ts');

describe('what the binary loads at start', () => {
  test('build:binary splits the bundle, so code reached through import() loads on first use', () => {
    expect(BUNDLE.splitting).toBe(true);
  });

  test('a start of the service loads none of the deferred built-ins, node:fs and node:util included', async () => {
    const eager = await startImports(SERVICE);
    expect(DEFERRED_BUILTINS).toEqual(expect.arrayContaining(['fs', 'util', 'http']));
    expect(eager.filter((name) => DEFERRED_BUILTINS.includes(name))).toEqual([]);
  });

  test('a built-in that a CommonJS module of a start chunk requires in its body is found, one required in a function is not', async () => {
    const scratch = scratchDir();
    try {
      writeFileSync(join(scratch.path, 'eager.cjs'), `const util = require('util');\nmodule.exports = (v) => util.format(v);\n`);
      writeFileSync(join(scratch.path, 'deferred.cjs'), `module.exports = (v) => require('util').format(v);\n`);
      writeFileSync(join(scratch.path, 'own.ts'), `export function gunzip(b: Uint8Array) {\n  const zlib = require('zlib');\n  return zlib.gunzipSync(b);\n}\n`);
      const entry = (name: string, body: string) => (writeFileSync(join(scratch.path, name), body), join(scratch.path, name));
      expect(await startImports(entry('e1.ts', `import f from './eager.cjs';\nexport const e = [f];\n`))).toEqual(['util']);
      expect(await startImports(entry('e2.ts', `import f from './deferred.cjs';\nimport { gunzip } from './own';\nexport const e = [f, gunzip];\n`))).toEqual([]);
      // prom-client's index as the build bundles it: its Pushgateway's requires are found, the requires of node:util and
      // node:fs that the build defers (substitutes/index.ts) are not.
      const promClient = await startImports(entry('e3.ts', `import { Counter } from 'prom-client';\nexport const e = [Counter];\n`));
      expect(promClient).toEqual(expect.arrayContaining(['http', 'zlib']));
      expect(promClient.filter((name) => name === 'util' || name === 'fs')).toEqual([]);
    } finally {
      scratch.dispose();
    }
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

  test('the OpenTelemetry packages are bundled from their ESM builds, though CommonJS code requires them too', async () => {
    expect(await commonJsBuilds(SERVICE, ESM_PACKAGES)).toEqual([]);
  });

  test('a CommonJS require of the API is found: it links the whole bundle to its CommonJS build without the module condition', async () => {
    const scratch = scratchDir();
    try {
      const entry = join(scratch.path, 'entry.ts');
      writeFileSync(entry, `import { trace } from '@opentelemetry/api';\nconst api = require('@opentelemetry/api');\nexport const both = [trace, api];\n`);
      expect(await commonJsBuilds(entry, ESM_PACKAGES)).toEqual([]);
      const withoutCondition = await Bun.build({ entrypoints: [entry], target: 'bun', format: 'esm', splitting: true });
      const text = (await Promise.all(withoutCondition.outputs.map((o) => o.text()))).join('\n');
      expect(text).toContain('// node_modules/@opentelemetry/api/build/src/index.js');
    } finally {
      scratch.dispose();
    }
  });

  test('a start loads no tracing package, the OpenTelemetry API included, nor TypeBox, but does load the ones every role uses', async () => {
    const loaded = await startPackages(SERVICE);
    expect(DEFERRED_PACKAGES).toContain('@sinclair/typebox');
    expect(loaded.filter((name) => DEFERRED_PACKAGES.includes(name))).toEqual([]);
    expect(loaded).toEqual(expect.arrayContaining(['elysia', 'exact-mirror', 'prom-client']));
  });

  test('a package imported statically, also through a chunk the entry imports, is found; one through import() is not', async () => {
    const scratch = scratchDir();
    try {
      writeFileSync(join(scratch.path, 'lazy.ts'), `import { trace } from '@opentelemetry/api';\nexport const t = trace;\n`);
      writeFileSync(join(scratch.path, 'shared.ts'), `import { context } from '@opentelemetry/api';\nexport const c = context;\n`);
      writeFileSync(join(scratch.path, 'other.ts'), `import { c } from './shared';\nexport const o = [c];\n`);
      const lazyOnly = join(scratch.path, 'lazy-only.ts');
      writeFileSync(lazyOnly, `export const later = () => import('./lazy');\n`);
      expect(await startPackages(lazyOnly)).toEqual([]);
      // Two entry points share shared.ts, so it lands in a chunk of its own that the entry imports.
      const entry = join(scratch.path, 'entry.ts');
      writeFileSync(entry, `import { c } from './shared';\nexport const e = [c];\nexport const later = () => import('./other');\n`);
      expect(await startPackages(entry)).toEqual(['@opentelemetry/api']);
      // CommonJS (prom-client's CPU metric did this): a require in the module's body loads the package at start, one inside a
      // function (the build's deferred require) does not.
      writeFileSync(join(scratch.path, 'eager.cjs'), `const api = require('@opentelemetry/api');\nmodule.exports = () => api.trace;\n`);
      writeFileSync(join(scratch.path, 'deferred.cjs'), `module.exports = () => require('@opentelemetry/api').trace;\n`);
      const requires = (file: string) => {
        const at = join(scratch.path, `requires-${file}.ts`);
        writeFileSync(at, `import f from './${file}.cjs';\nexport const e = [f];\nexport const later = () => import('./other');\n`);
        return startPackages(at);
      };
      expect(await requires('eager')).toEqual(['@opentelemetry/api']);
      expect(await requires('deferred')).toEqual([]);
    } finally {
      scratch.dispose();
    }
  });
});
