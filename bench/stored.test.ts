/**
 * Stored = answered with real servers: a tiny run of `bun bench/main.ts --backends url` (two rounds) on the MongoDB-protocol and
 * RabbitMQ servers the test harness provides. The bench's per-collection accounting is checked against the database itself,
 * counted by the test before and after the run. Asserts no speed.
 */
import { expect } from 'bun:test';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { serviceBinary } from '../scripts/artifacts';
import { loadConfig } from '../src/config/settings';
import { describeWithBackends } from '../test/support/backends';
import { countCollections, storedCollections } from './data-plane';
import type { BenchReport } from './report';

const MAIN = join(import.meta.dir, 'main.ts');
const { config } = loadConfig();
const collections = storedCollections(config);

await describeWithBackends('bun bench/main.ts --backends url: stored = answered, per collection', { mongo: 'use', rabbit: 'use' }, ({ mongo, rabbit }, { test, beforeAll, afterAll }) => {
  let outDir: string;
  let status: number;
  let stderr: string;
  let report: BenchReport;
  let before: number[];
  let after: number[];

  beforeAll(async () => {
    serviceBinary();
    outDir = mkdtempSync(join(tmpdir(), 'bench-stored-'));
    before = await countCollections(mongo!.url, collections);
    const child = Bun.spawn(
      [process.execPath, MAIN, '--backends', 'url', '--rounds', '2', '--duration', '1', '--warmup', '0.5', '--jit-warmup', '0', '--ceiling-duration', '0', '--concurrency', '2', '--startup-runs', '0', '--out', outDir],
      { stdout: 'pipe', stderr: 'pipe', env: { ...process.env, MONGO_CONN: mongo!.url, RABBITMQ_CONN: rabbit!.url } },
    );
    status = await child.exited;
    stderr = await new Response(child.stderr).text();
    after = await countCollections(mongo!.url, collections);
    const json = readdirSync(outDir).find((f) => f.endsWith('.json'));
    report = JSON.parse(readFileSync(join(outDir, json!), 'utf8')) as BenchReport;
  }, 120_000);

  afterAll(() => rmSync(outDir, { recursive: true, force: true }));

  test('every collection gained one document per answered greeting of its roles, and the last exact answer is in it by id', () => {
    expect({ status, stderr: status === 0 ? '' : stderr.slice(-2000) }).toEqual({ status: 0, stderr: '' });
    const [scenario] = report.scenarios;
    expect(scenario!.label).toBe('binary/url/tracing-off/http');
    expect(scenario!.correctness.wrong).toBe(0);
    const stored = scenario!.stored!;
    expect(stored.map((c) => [c.collection, c.roles])).toEqual([
      ['service-c.greetings', ['c']],
      ['service-f.messages', ['d']],
      ['service-g.greetings', ['g']],
      ['service-h.greetings', ['h']],
    ]);
    for (const c of stored) {
      expect(c.answered).toBe(scenario!.correctness.greetingsByRole[c.roles[0]!]!);
      expect(c).toMatchObject({ stored: c.answered, sampleFound: true });
    }
    // Per round too: the setup phase and each round are accounted for separately, and add up to the totals.
    for (const round of scenario!.rounds) for (const c of round.stored!) expect(c.stored).toBe(c.answered);
  });

  test("the bench's counts are the database's own", () => {
    const grown = after.map((n, i) => n - before[i]!);
    expect(report.scenarios[0]!.stored!.map((c) => c.stored)).toEqual(grown);
    expect(grown.every((n) => n > 0)).toBe(true);
  });

  test('the data-plane targets are reported: CPU per chain request against 2 ms, stored = answered met, D and F counters', () => {
    const targets = Object.fromEntries(report.targets.map((t) => [t.target, t]));
    expect(targets['stored = answered, per collection']!.met).toBe(true);
    expect(targets['published = stored (D and F counters)']!.met).toBe(true);
    expect(targets['data plane: CPU per chain request <= 2 ms']).toBeDefined();
    expect(targets['idle RSS per process with drivers <= 50 MB']).toBeDefined();
  });
});
