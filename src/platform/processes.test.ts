/**
 * What the process platform promises the tests that read a role's output: whole lines, however its pipes cut them.
 */
import { afterAll, afterEach, expect, test } from 'bun:test';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { eventually } from '../../test/support/eventually';
import { loadConfig } from '../config/settings';
import { ProcessPlatform } from './processes';

const { config } = loadConfig();
const onlyH = { ...config, services: { h: config.services.h! } };
const scratch = mkdtempSync(join(tmpdir(), 'processes-test-'));
let platform: ProcessPlatform | undefined;
afterEach(async () => {
  await platform?.stop();
  platform = undefined;
});
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

test("a role's lines arrive whole, though its pipes cut them anywhere, within a character too", async () => {
  // A stand-in role: answers every probe, and writes lines in pieces with pauses between them (each pause ends a read).
  const script = join(scratch, 'pieces.ts');
  writeFileSync(
    script,
    `const euro = Buffer.from('€');
const pieces = [Buffer.from('{"msg":"first'), Buffer.from(' line"}\\n{"msg":"'), euro.subarray(0, 1), euro.subarray(1), Buffer.from('"}\\n')];
for (const piece of pieces) { process.stdout.write(piece); await Bun.sleep(30); }
process.stderr.write('last words, without a newline');
Bun.serve({ port: Number(process.env.PORT), hostname: '127.0.0.1', fetch: () => new Response('{}') });
process.on('SIGTERM', () => process.exit(0));`,
  );
  platform = new ProcessPlatform(onlyH, { command: [process.execPath, script] });
  await platform.start();
  await platform.stop();
  const lines = platform.output.get('h')!;
  // The last line is kept when its pipe ends, which may come after the exit.
  await eventually(() => lines.length === 3, 'three lines');
  expect(lines).toEqual(['{"msg":"first line"}', '{"msg":"€"}', 'last words, without a newline']);
});
