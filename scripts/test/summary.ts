/**
 * Counts a bun test JUnit report by test case: passed, failed (a failure or an error, a failing hook included), and not run
 * (skipped or todo). Prints `N passed, M failed, K not run` and exits 1 unless every test passed. With `--json` it prints the
 * counts as JSON for .ci/run; with `--failures`, a line for each test that did not pass (its file and line, its name, the
 * start of its failure), which .ci/run repeats just above its last line: a CI log kept only by its tail still names them.
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

const ENTITIES: Record<string, string> = { quot: '"', amp: '&', lt: '<', gt: '>', apos: "'" };
const unescape = (text: string) =>
  text.replace(/&(#x[0-9a-f]+|#\d+|\w+);/gi, (whole, ref: string) =>
    ref[0] === '#' ? String.fromCodePoint(ref[1] === 'x' || ref[1] === 'X' ? parseInt(ref.slice(2), 16) : Number(ref.slice(1))) : (ENTITIES[ref] ?? whole),
  );
const attribute = (tag: string, name: string) => unescape(new RegExp(`\\b${name}="([^"]*)"`).exec(tag)?.[1] ?? '');

/** FAILED or NOT RUN, where (file:line), the describe blocks and name, and the failure's first 300 characters on one line. */
export function notPassing(junit: string): string[] {
  const lines: string[] = [];
  // A self-closing <testcase/> (a pass) is not an opening tag: matched as one, its "body" would run on into the next case's.
  for (const [, open, inner] of junit.matchAll(/(<testcase\b[^>]*?)(?<!\/)>([\s\S]*?)<\/testcase>/g)) {
    const failure = /<(failure|error)\b[^>]*>/.exec(inner!);
    if (!failure && !/<skipped\b/.test(inner!)) continue;
    const line = attribute(open!, 'line');
    const where = `${attribute(open!, 'file')}${line ? `:${line}` : ''}`;
    const name = [attribute(open!, 'classname'), attribute(open!, 'name')].filter(Boolean).join(' > ');
    const message = failure ? attribute(failure[0], 'message').trim().replace(/\s*\n\s*/g, ' / ') : '';
    lines.push(`${failure ? 'FAILED' : 'NOT RUN'} ${where} ${name}${message ? `: ${message.length > 300 ? `${message.slice(0, 300)}…` : message}` : ''}`);
  }
  return lines;
}

if (import.meta.main) {
  const [file = 'test-results/junit.xml', flag] = process.argv.slice(2);
  if (!existsSync(file)) {
    console.log(`0 passed, 1 failed, 0 not run (no test report at ${file}: the test run did not finish)`);
    process.exit(1);
  }
  const junit = readFileSync(file, 'utf8');
  const counts = countTestCases(junit);
  if (flag === '--failures') {
    for (const line of notPassing(junit)) console.log(line);
    process.exit(0);
  }
  if (flag === '--json') console.log(JSON.stringify(counts));
  else console.log(`${counts.passed} passed, ${counts.failed} failed, ${counts.notRun} not run`);
  process.exit(counts.failed + counts.notRun === 0 ? 0 : 1);
}
