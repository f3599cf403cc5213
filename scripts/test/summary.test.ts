/**
 * The lines .ci/run repeats above its last one: each test that did not pass, named from bun test's own JUnit report.
 */
import { afterAll, expect, test } from 'bun:test';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { countTestCases, notPassing } from './summary';

const dir = mkdtempSync(join(tmpdir(), 'gm-summary-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

test('names each failed, errored and skipped test with its file, line and first words, and no passing one', () => {
  writeFileSync(
    join(dir, 'fixture.test.ts'),
    `import { beforeAll, describe, expect, test } from 'bun:test';
test('passes first', () => {});
test('compares "quoted" <text> & more', () => { expect(1).toBe(2); });
test('passes between', () => {});
test.skip('skipped', () => {});
describe('a block', () => {
  beforeAll(() => { throw new Error('hook & all'); });
  test('inside', () => {});
});
test('passes last', () => {});
`,
  );
  const junit = join(dir, 'junit.xml');
  spawnSync(process.execPath, ['test', 'fixture.test.ts', '--reporter=junit', `--reporter-outfile=${junit}`], { cwd: dir, encoding: 'utf8' });
  const report = readFileSync(junit, 'utf8');
  expect(notPassing(report)).toEqual([
    'FAILED fixture.test.ts:3 compares "quoted" <text> & more: expect(received).toBe(expected) / Expected: 2 / Received: 1',
    'NOT RUN fixture.test.ts:5 skipped',
    'FAILED fixture.test.ts a block > (unnamed): hook & all',
  ]);
  expect(countTestCases(report)).toEqual({ passed: 3, failed: 2, notRun: 1 });
});

test('a long failure is cut, on one line', () => {
  const message = `first line&#10;${'x'.repeat(400)}`;
  const [line] = notPassing(`<testcase name="t" classname="c" file="f.ts" line="1"><failure type="Error" message="${message}">…</failure></testcase>`);
  expect(line).toStartWith('FAILED f.ts:1 c > t: first line / xxx');
  expect(line).toEndWith('x…');
  expect(line!.length).toBeLessThan(360);
});
