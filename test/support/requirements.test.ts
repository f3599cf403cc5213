/**
 * A missing requirement is counted test by test: every test of the suite fails with the reason, its hooks never run, and the
 * summary that CI prints counts test cases (a skipped one as not run), not describe blocks.
 */
import { expect, test } from 'bun:test';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { countTestCases } from '../../scripts/test/summary';

const dir = mkdtempSync(join(tmpdir(), 'gm-requirements-'));

function runFixture(body: string) {
  const file = join(dir, `fixture-${Math.random().toString(36).slice(2)}.test.ts`);
  writeFileSync(file, `import { describeRequiring } from ${JSON.stringify(join(import.meta.dir, 'requirements.ts'))};\nimport { test as plainTest } from 'bun:test';\n${body}`);
  const junit = `${file}.xml`;
  const out = spawnSync(process.execPath, ['test', file, '--reporter=junit', `--reporter-outfile=${junit}`], { cwd: dir, encoding: 'utf8' });
  return { status: out.status, output: `${out.stdout}${out.stderr}`, counts: countTestCases(readFileSync(junit, 'utf8')) };
}

test('each test of a suite whose requirement is missing fails with the reason, and no hook runs', () => {
  const { status, output, counts } = runFixture(`
describeRequiring('needs a thing', 'the thing is missing: run install-thing.sh', ({ test, beforeAll }) => {
  beforeAll(() => { throw new Error('a hook ran'); });
  test('first', () => {});
  test('second', () => {});
  test('third', () => {});
});
plainTest('unrelated', () => {});
`);
  expect(status).toBe(1);
  expect(counts).toEqual({ passed: 1, failed: 3, notRun: 0 });
  expect(output.match(/MissingRequirement: the thing is missing: run install-thing.sh/g)).toHaveLength(3);
  expect(output).not.toContain('a hook ran');
});

test('a suite whose requirement is met is bun test itself: hooks run, tests pass', () => {
  const { status, counts } = runFixture(`
let ready = false;
describeRequiring('has the thing', undefined, ({ test, beforeAll }) => {
  beforeAll(() => { ready = true; });
  test('sees the hook', () => { if (!ready) throw new Error('no hook'); });
});
`);
  expect(status).toBe(0);
  expect(counts).toEqual({ passed: 1, failed: 0, notRun: 0 });
});

test('the summary counts skipped and todo tests as not run, and a failing hook as a failure', () => {
  const { counts } = runFixture(`
import { describe, beforeAll } from 'bun:test';
plainTest.skip('skipped', () => {});
plainTest.todo('todo');
describe('hook fails', () => {
  beforeAll(() => { throw new Error('boom'); });
  plainTest('inside', () => {});
});
plainTest('passes', () => {});
`);
  expect(counts).toEqual({ passed: 1, failed: 1, notRun: 2 });
});
