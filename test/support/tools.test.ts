/** A server binary found on the machine is trusted only at the pinned version: an impostor first on the list is passed over. */
import { afterEach, expect, test } from 'bun:test';
import { chmodSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ferretdbBinary } from './backends';
import { findTool, pinnedVersion } from './tools';

const dir = mkdtempSync(join(tmpdir(), 'gm-tools-'));
const saved = process.env.FERRETDB_BIN;
afterEach(() => {
  if (saved === undefined) delete process.env.FERRETDB_BIN;
  else process.env.FERRETDB_BIN = saved;
});

function fakeBinary(name: string, script: string): string {
  const path = join(dir, name);
  writeFileSync(path, `#!/bin/sh\n${script}\n`);
  chmodSync(path, 0o755);
  return path;
}

test('a binary that panics when asked its version, or reports another one, is passed over with the reason', () => {
  const panics = fakeBinary('ferretdb-panics', "echo 'panic: Invalid build/version/version.txt file content' >&2; exit 2");
  const old = fakeBinary('ferretdb-old', 'echo "version: v1.20.0"');
  const good = fakeBinary('ferretdb-good', `echo "version: ${pinnedVersion('FERRETDB_VERSION')}"`);
  const found = findTool('ferretdb', [panics, old, good], { versionArgs: ['--version'], version: pinnedVersion('FERRETDB_VERSION') });
  expect(found).toEqual({ ok: true, path: good });
  const none = findTool('ferretdb', [panics, old], { versionArgs: ['--version'], version: pinnedVersion('FERRETDB_VERSION') });
  expect(none.ok).toBe(false);
  expect((none as { reason: string }).reason).toContain('panic: Invalid build/version/version.txt');
  expect((none as { reason: string }).reason).toContain('v1.20.0');
});

test('FERRETDB_BIN naming an impostor does not stop the harness from finding the pinned FerretDB', () => {
  process.env.FERRETDB_BIN = fakeBinary('ferretdb-impostor', "echo 'panic: boom' >&2; exit 2");
  const found = ferretdbBinary();
  // The pinned one is installed by scripts/ci/install-backends.sh (npm test runs it first).
  expect(found.ok).toBe(true);
  expect((found as { path: string }).path).not.toBe(process.env.FERRETDB_BIN);
});
