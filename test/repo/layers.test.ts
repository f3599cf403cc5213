/**
 * The house's floors: every module of src/ imports only from its own floor or below, and the rooms that are siblings
 * (the two seams of floor 2; the two transports, http/ and grpc/) do not import each other. A reader follows a request from
 * the socket down to the upstream call and back without climbing.
 */
import { expect, test } from 'bun:test';
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { floorOf } from './floors';

const SRC = join(import.meta.dir, '..', '..', 'src');

function sources(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const path = join(dir, e.name);
    if (e.isDirectory()) return sources(path);
    return /\.ts$/.test(e.name) && !/\.test\.ts$/.test(e.name) ? [path] : [];
  });
}

function importsOf(file: string): string[] {
  const text = readFileSync(file, 'utf8');
  const specs = [...text.matchAll(/(?:from|import)\s*\(?\s*'(\.[^']+)'/g), ...text.matchAll(/require\('(\.[^']+)'\)/g)].map((m) => m[1]!);
  return specs.map((spec) => relative(SRC, resolve(dirname(file), spec)).replace(/(\.ts)?$/, '.ts'));
}

test('no module of src/ imports from a floor above its own, or from a sibling room', () => {
  const climbs: string[] = [];
  for (const file of sources(SRC)) {
    const from = relative(SRC, file);
    const here = floorOf(from);
    for (const to of importsOf(file)) {
      if (to.startsWith('..')) continue;
      const there = floorOf(to);
      if (there.floor > here.floor || (there.floor === here.floor && there.room !== here.room)) climbs.push(`${from} (${here.room}) imports ${to} (${there.room})`);
    }
  }
  expect(climbs).toEqual([]);
});

test('the check sees a climb: a lower floor importing a higher one is reported', () => {
  expect(floorOf('telemetry/log.ts').floor).toBeLessThan(floorOf('http/app.ts').floor);
  expect(importsOf(join(SRC, 'role.ts'))).toContain('http/app.ts');
});
