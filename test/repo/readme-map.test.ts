/**
 * The README's map of the code matches the tree: every directory and entry file at the top of src/ is on the map, on the
 * floor test/repo/floors.ts gives it (the one the import check enforces), and every path the map names exists.
 */
import { expect, test } from 'bun:test';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { floorOf } from './floors';

const ROOT = join(import.meta.dir, '..', '..');

/** The map's rows: the floor as written (a number, or `entry`) and the `src/...` paths named in its second column. */
function mapRows(readme: string): { floor: string; paths: string[] }[] {
  const section = readme.split(/^## Map of the code$/m)[1]?.split(/^## /m)[0];
  if (section === undefined) throw new Error('README.md has no "## Map of the code" section');
  return section
    .split('\n')
    .map((line) => /^\| (\d+|entry) \| ([^|]+) \|/.exec(line))
    .filter((m): m is RegExpExecArray => m !== null)
    .map((m) => ({ floor: m[1]!, paths: [...m[2]!.matchAll(/`(src\/[^`]+)`/g)].map((p) => p[1]!) }));
}

/** What a reader should find on the map: src/'s directories (as `src/x/`) and its entry files, not tests. */
function topOfSrc(): string[] {
  return readdirSync(join(ROOT, 'src'), { withFileTypes: true })
    .filter((e) => e.isDirectory() || (e.name.endsWith('.ts') && !e.name.endsWith('.test.ts')))
    .map((e) => (e.isDirectory() ? `src/${e.name}/` : `src/${e.name}`));
}

function mismatches(readme: string): string[] {
  const rows = mapRows(readme);
  const named = new Map(rows.flatMap((r) => r.paths.map((p) => [p, r.floor] as const)));
  const problems: string[] = [];
  for (const path of named.keys()) if (!existsSync(join(ROOT, path))) problems.push(`${path} is on the map but not in the tree`);
  for (const path of topOfSrc()) {
    const floor = named.get(path);
    if (floor === undefined) {
      problems.push(`${path} is in the tree but not on the map`);
      continue;
    }
    const inner = path.replace(/^src\//, '') + (path.endsWith('/') ? 'x.ts' : '');
    const expected = floorOf(inner).floor;
    const written = floor === 'entry' ? 8 : Number(floor);
    if (written !== expected) problems.push(`${path} is on floor ${floor} of the map, but on floor ${expected} of floors.ts`);
  }
  return problems;
}

test("the README's map of the code names every directory and entry point of src/, on its floor, and nothing that is gone", () => {
  expect(mismatches(readFileSync(join(ROOT, 'README.md'), 'utf8'))).toEqual([]);
});

test('the check sees a missing room, a room that is gone and a room on the wrong floor', () => {
  const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
  const withoutGrpc = readme.replace(/^\| 5 \| `src\/grpc\/` .*\n/m, '');
  expect(mismatches(withoutGrpc)).toEqual(['src/grpc/ is in the tree but not on the map']);
  const gone = readme.replace('| 5 | `src/grpc/` |', '| 5 | `src/grpc/`, `src/websocket/` |');
  expect(mismatches(gone)).toEqual(['src/websocket/ is on the map but not in the tree']);
  const wrongFloor = readme.replace('| 5 | `src/grpc/` |', '| 4 | `src/grpc/` |');
  expect(mismatches(wrongFloor)).toEqual(['src/grpc/ is on floor 4 of the map, but on floor 5 of floors.ts']);
});
