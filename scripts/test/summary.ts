/**
 * Counts a bun test JUnit report by test case: passed, failed (a failure or an error, a failing hook included), and not run
 * (skipped or todo). Prints `N passed, M failed, K not run` and exits 1 unless every test passed. With `--json` it prints the
 * counts as JSON for .ci/run.
 */
import { existsSync, readFileSync } from 'node:fs';

export interface Counts {
  passed: number;
  failed: number;
  notRun: number;
}

/** One entry per <testcase>: self-closing ones passed; the others by the first child element they hold. */
export function countTestCases(junit: string): Counts {
  const counts: Counts = { passed: 0, failed: 0, notRun: 0 };
  const cases = junit.matchAll(/<testcase\b[^>]*?(\/>|>([\s\S]*?)<\/testcase>)/g);
  for (const [, end, inner] of cases) {
    if (end === '/>' || !inner || !/<(failure|error|skipped)\b/.test(inner)) counts.passed++;
    else if (/<(failure|error)\b/.test(inner)) counts.failed++;
    else counts.notRun++;
  }
  return counts;
}

if (import.meta.main) {
  const [file = 'test-results/junit.xml', flag] = process.argv.slice(2);
  if (!existsSync(file)) {
    console.log(`0 passed, 1 failed, 0 not run (no test report at ${file}: the test run did not finish)`);
    process.exit(1);
  }
  const counts = countTestCases(readFileSync(file, 'utf8'));
  if (flag === '--json') console.log(JSON.stringify(counts));
  else console.log(`${counts.passed} passed, ${counts.failed} failed, ${counts.notRun} not run`);
  process.exit(counts.failed + counts.notRun === 0 ? 0 : 1);
}
