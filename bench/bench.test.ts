/**
 * Smoke test of the load bench: a tiny run (1 s, 2 connections) of `bun bench/main.ts` against the eight roles as processes.
 * It checks the numbers are sane and the files are written; it asserts no speed, which depends on the machine.
 */
import { afterAll, beforeAll, describe, expect, test } from 'bun:test';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { serviceBinary } from '../scripts/artifacts';
import type { BenchReport } from './report';

const MAIN = join(import.meta.dir, 'main.ts');
let outDir: string;
let run: ReturnType<typeof spawnSync>;
let report: BenchReport;

beforeAll(() => {
  serviceBinary(); // build outside the bench's own timing when the binary is stale
  outDir = mkdtempSync(join(tmpdir(), 'bench-smoke-'));
  run = spawnSync(
    process.execPath,
    [MAIN, '--duration', '1', '--warmup', '0.5', '--jit-warmup', '0', '--ceiling-duration', '1', '--concurrency', '2', '--startup-runs', '1', '--out', outDir],
    { encoding: 'utf8', timeout: 60_000 },
  );
  const json = readdirSync(outDir).find((f) => f.endsWith('.json'));
  if (json) report = JSON.parse(readFileSync(join(outDir, json), 'utf8')) as BenchReport;
}, 90_000);

afterAll(() => rmSync(outDir, { recursive: true, force: true }));

describe('bun bench/main.ts, a tiny run', () => {
  test('exits 0 and writes a JSON report and an HTML chart', () => {
    expect({ status: run.status, stderr: run.status === 0 ? '' : String(run.stderr).slice(-2000) }).toEqual({ status: 0, stderr: '' });
    expect(report).toBeDefined();
    const html = readdirSync(outDir).find((f) => f.endsWith('.html'));
    expect(html).toBeDefined();
    expect(readFileSync(join(outDir, html!), 'utf8')).toContain('<svg');
  });

  test('the chain and the ceiling report requests, ordered latencies and no errors', () => {
    const [scenario] = report.scenarios;
    expect(report.scenarios).toHaveLength(1);
    expect(scenario!.label).toBe('binary/memory/tracing-off/http');
    for (const load of [scenario!.chain, scenario!.ceiling]) {
      expect(load.requestsPerSecond).toBeGreaterThan(0);
      expect(load.latency.p50Ms).toBeGreaterThan(0);
      expect(load.latency.p50Ms).toBeLessThanOrEqual(load.latency.p90Ms);
      expect(load.latency.p90Ms).toBeLessThanOrEqual(load.latency.p99Ms);
      expect(load.latency.p99Ms).toBeLessThanOrEqual(load.latency.maxMs);
      expect({ errors: load.errors, non2xx: load.non2xx }).toEqual({ errors: 0, non2xx: 0 });
    }
    expect(scenario!.ratio).toBeGreaterThan(0);
    expect(scenario!.hops).toBe(7);
  });

  test('every role reports CPU time and memory; exec-to-ready is measured per role', () => {
    const roles = report.scenarios[0]!.roles;
    expect(Object.keys(roles).sort()).toEqual(['a', 'b', 'c', 'd', 'e', 'f', 'g', 'h']);
    for (const stats of Object.values(roles)) {
      expect(stats.idleRssMb).toBeGreaterThan(0);
      expect(stats.peakRssMb).toBeGreaterThanOrEqual(stats.idleRssMb);
      expect(stats.chainCpuSeconds).toBeGreaterThanOrEqual(0);
    }
    expect(roles.a!.chainCpuSeconds).toBeGreaterThan(0);
    expect(report.startup.binary?.map((s) => s.role).sort()).toEqual(['a', 'b', 'c', 'd', 'e', 'f', 'g', 'h']);
    for (const s of report.startup.binary!) expect(s.medianMs).toBeGreaterThan(0);
    expect(report.targets.map((t) => t.target)).toContain('zero errors and non-2xx');
  });

  test('the printed summary names the ratio and where the files went', () => {
    expect(run.stdout).toContain('ratio chain req/s x 7 / ceiling req/s');
    expect(run.stdout).toContain(outDir);
    expect(existsSync(outDir)).toBe(true);
  });
});
