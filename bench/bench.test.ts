/**
 * Smoke tests of the load bench, tiny runs of `bun bench/main.ts` (1 s or less of load, 2 connections). They check the
 * structure of the results, the correctness accounting and the files written; they assert no speed, which depends on the
 * machine.
 * - the bench's own platform as processes of the binary, with start-up against bare Bun and the import costs;
 * - `--target`: a platform the test starts in its own process (PID given), against stand-in edges that answer fast and wrong
 *   (six greetings; the right seven in the wrong order; the same answer every time), in alternating rounds.
 */
import { afterAll, beforeAll, describe, expect, test } from 'bun:test';
import { spawnSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { serviceBinary } from '../scripts/artifacts';
import { readEnv } from '../src/config/env';
import { loadConfig } from '../src/config/settings';
import { startInProcess, type InProcessPlatform } from '../src/platform/in-process';
import { expectedChain } from './correctness';
import type { BenchReport } from './report';

const MAIN = join(import.meta.dir, 'main.ts');
const ROLES = ['a', 'b', 'c', 'd', 'e', 'f', 'g', 'h'];

function readReport(outDir: string): BenchReport | undefined {
  const json = readdirSync(outDir).find((f) => f.endsWith('.json'));
  return json ? (JSON.parse(readFileSync(join(outDir, json), 'utf8')) as BenchReport) : undefined;
}

describe('bun bench/main.ts on its own platform, a tiny run', () => {
  let outDir: string;
  let run: ReturnType<typeof spawnSync>;
  let report: BenchReport;

  beforeAll(() => {
    serviceBinary(); // build outside the bench's own timing when the binary is stale
    outDir = mkdtempSync(join(tmpdir(), 'bench-smoke-'));
    run = spawnSync(
      process.execPath,
      [MAIN, '--duration', '1', '--warmup', '0.5', '--jit-warmup', '0', '--ceiling-duration', '1', '--concurrency', '2', '--startup-runs', '1', '--out', outDir],
      { encoding: 'utf8', timeout: 150_000 },
    );
    report = readReport(outDir)!;
  }, 180_000);

  afterAll(() => rmSync(outDir, { recursive: true, force: true }));

  test('exits 0 and writes a JSON report and an HTML page with the targets and the charts', () => {
    expect({ status: run.status, stderr: run.status === 0 ? '' : String(run.stderr).slice(-2000) }).toEqual({ status: 0, stderr: '' });
    expect(report).toBeDefined();
    const html = readdirSync(outDir).find((f) => f.endsWith('.html'));
    const page = readFileSync(join(outDir, html!), 'utf8');
    expect(page).toContain('<svg');
    expect(page).toContain('<h2>Targets</h2>');
    expect(page).toContain('CPU per chain request &lt;= 350 µs');
  });

  test('the chain and the ceiling report requests and ordered latencies; every answer was checked and exact', () => {
    const [scenario] = report.scenarios;
    expect(report.scenarios).toHaveLength(1);
    expect(scenario!.label).toBe('binary/memory/tracing-off/http');
    expect(scenario!.rounds).toHaveLength(1);
    const round = scenario!.rounds[0]!;
    for (const load of [round.chain, round.ceiling!]) {
      expect(load.requestsPerSecond).toBeGreaterThan(0);
      expect(load.latency.p50Ms).toBeGreaterThan(0);
      expect(load.latency.p50Ms).toBeLessThanOrEqual(load.latency.p99Ms);
      expect(load.latency.p99Ms).toBeLessThanOrEqual(load.latency.maxMs);
      expect({ errors: load.errors, non2xx: load.non2xx }).toEqual({ errors: 0, non2xx: 0 });
    }
    expect(round.chain.correctness).toMatchObject({ checked: round.chain.requests, exact: round.chain.requests, wrong: 0 });
    // Warm-up and the first answer are checked too.
    expect(scenario!.correctness.checked).toBeGreaterThan(round.chain.requests);
    expect(scenario!.correctness.wrong).toBe(0);
    expect(scenario!.hops).toBe(7);
    expect(round.ratio).toBeGreaterThan(0);
    expect(round.chain.cpuPerRequestUs).toBeGreaterThan(0);
    expect(round.chain.checkUsPerAnswer).toBeGreaterThan(0);
  });

  test('every role reports CPU time and memory', () => {
    const s = report.scenarios[0]!;
    expect(Object.keys(s.processSummary).sort()).toEqual(ROLES);
    for (const role of ROLES) {
      expect(s.setup.idle[role]!.idleRssMb).toBeGreaterThan(0);
      // Eight processes of one executable share its pages: each one's share of them is smaller than all of them.
      expect(s.setup.idle[role]!.idlePssMb).toBeGreaterThan(0);
      expect(s.setup.idle[role]!.idlePssMb).toBeLessThan(s.setup.idle[role]!.idleRssMb);
      expect(s.processSummary[role]!.peakRssMb).toBeGreaterThanOrEqual(s.setup.idle[role]!.idleRssMb);
    }
    expect(s.rounds[0]!.processes.a!.chainCpuSeconds).toBeGreaterThan(0);
    expect(s.summary.cpuPerRequestUs!.median).toBeGreaterThan(0);
  });

  test('start-up: every role against a bare compiled Bun server, the driver roles with and without drivers, and each import', () => {
    const startup = report.startup!;
    expect(startup.probe).toBe('/api/health');
    expect(startup.bare.medianMs).toBeGreaterThan(0);
    const binary = startup.roles.binary!;
    expect([...new Set(binary.map((s) => s.role))].sort()).toEqual(ROLES);
    expect(binary.filter((s) => s.drivers).map((s) => s.role).sort()).toEqual(['c', 'd', 'f', 'g', 'h']);
    for (const s of binary) expect(s.ratioToBare).toBeCloseTo(s.medianMs / startup.bare.medianMs, 1);
    expect(startup.imports.map((i) => i.module)).toEqual(expect.arrayContaining(['elysia', 'prom-client', '@opentelemetry/*', 'mongodb', 'amqplib', '@grpc/grpc-js']));
    for (const i of startup.imports) expect(i.rssMb).toBeGreaterThan(0);
  });

  test('the targets include the issue\'s, and the printed summary says where the files went', () => {
    const targets = report.targets.map((t) => t.target);
    for (const t of ['zero errors (no answer, or not exactly the expected greetings)', 'CPU per chain request <= 350 µs', 'chain >= 4000 req/s at c=25', 'chain p99 < 15 ms', 'idle RSS per process without drivers <= 40 MB', 'exec to /api/health 200 without drivers <= 20 ms', 'exec to /api/health 200 with drivers <= 30 ms'])
      expect(targets).toContain(t);
    expect(report.targets.find((t) => t.target.startsWith('zero errors'))!.met).toBe(true);
    expect(report.targets.find((t) => t.target.startsWith('chain >= 4000'))!.note).toContain('c=2');
    expect(run.stdout).toContain('chain req/s x hops / ceiling req/s');
    expect(run.stdout).toContain(outDir);
    expect(existsSync(outDir)).toBe(true);
  });
});

describe('bun bench/main.ts --target, against edges it did not start', () => {
  const { config } = loadConfig();
  const expected = expectedChain(config);
  let platform: InProcessPlatform;
  const standIns: ReturnType<typeof Bun.serve>[] = [];
  let outDir: string;
  let status: number;
  let stderr: string;
  let report: BenchReport;

  /** Right greetings, made now; the stand-ins below get them wrong in one way each. */
  const greetings = () => expected.map((e) => ({ id: randomUUID(), service: e.service, message: e.message, created: new Date().toISOString(), hostname: 'stand-in', version: e.version }));
  /** A stand-in edge on Bun.serve answering `answer()` on the greeting route (fast, and wrong) and 200 on any other. */
  const standIn = (answer: () => unknown) => {
    const server = Bun.serve({ port: 0, hostname: '127.0.0.1', fetch: (req) => (new URL(req.url).pathname === '/api/greeting' ? Response.json(answer()) : Response.json({ alive: true })) });
    standIns.push(server);
    return `http://127.0.0.1:${server.port}`;
  };

  beforeAll(async () => {
    platform = await startInProcess(config, { ephemeralPorts: true, env: readEnv({ LOG_LEVEL: 'warn', DRAIN_DELAY_MS: '0' }) });
    const six = standIn(() => greetings().slice(1));
    const swapped = standIn(() => {
      const g = greetings();
      [g[5], g[6]] = [g[6]!, g[5]!];
      return g;
    });
    // The same greetings every time, only their times kept current: what a cache in front of the chain would answer.
    const once = greetings();
    const cached = standIn(() => once.map((g) => ({ ...g, created: new Date().toISOString() })));
    outDir = mkdtempSync(join(tmpdir(), 'bench-targets-'));
    // Asynchronously: the platform under load answers from this very process.
    const child = Bun.spawn(
      [
        process.execPath, MAIN,
        '--target', `platform=${platform.url('a')}`, '--target-pids', `platform=${process.pid}`,
        '--target', `six=${six}`, '--target', `swapped=${swapped}`, '--target', `cached=${cached}`,
        '--rounds', '2', '--duration', '0.5', '--warmup', '0.3', '--jit-warmup', '0', '--ceiling-duration', '0.5', '--concurrency', '2', '--out', outDir,
      ],
      { stdout: 'pipe', stderr: 'pipe' },
    );
    status = await child.exited;
    stderr = await new Response(child.stderr).text();
    report = readReport(outDir)!;
  }, 120_000);

  afterAll(async () => {
    for (const s of standIns) s.stop(true);
    await platform?.stop();
    rmSync(outDir, { recursive: true, force: true });
  });

  const scenario = (label: string) => report.scenarios.find((s) => s.label === label)!;

  test('runs every target as a scenario, without starting a platform of its own or measuring start-up', () => {
    expect({ status, stderr: status === 0 ? '' : stderr.slice(-2000) }).toEqual({ status: 0, stderr: '' });
    expect(report.scenarios.map((s) => s.label)).toEqual(['target:platform', 'target:six', 'target:swapped', 'target:cached']);
    expect(report.startup).toBeUndefined();
    expect(report.failed).toEqual([]);
  });

  test('rounds alternate between the scenarios (A B C D A B C D), and each figure has a median over both', () => {
    const order = report.scenarios.flatMap((s) => s.rounds.map((r) => ({ label: s.label, round: r.round, at: r.startedAt }))).sort((a, b) => a.at.localeCompare(b.at));
    expect(order.map((o) => `${o.label}#${o.round}`)).toEqual(
      ['platform#1', 'six#1', 'swapped#1', 'cached#1', 'platform#2', 'six#2', 'swapped#2', 'cached#2'].map((x) => `target:${x}`),
    );
    for (const s of report.scenarios) expect(s.summary.chainRps!.n).toBe(2);
    expect(report.ratios.map((r) => r.name)).toEqual(['target:six / target:platform', 'target:swapped / target:platform', 'target:cached / target:platform']);
  });

  test('the real platform answers exactly; its PID is measured', () => {
    const s = scenario('target:platform');
    expect(s.correctness.checked).toBeGreaterThan(0);
    expect(s.correctness).toMatchObject({ exact: s.correctness.checked, wrong: 0 });
    expect(Object.keys(s.processSummary)).toEqual(['platform']);
    expect(s.setup.idle.platform!.pid).toBe(process.pid);
    expect(s.summary.cpuPerRequestUs!.median).toBeGreaterThan(0);
  });

  test('fast wrong answers are counted as wrong, each with its reason, and miss "zero errors"', () => {
    const reasons = (label: string) => Object.keys(scenario(label).correctness.reasons);
    expect(reasons('target:six')).toEqual(['6 entries, expected 7']);
    expect(reasons('target:swapped')).toEqual(["entry 6 is 'Service A', expected 'Service C'"]);
    expect(reasons('target:cached')).toEqual(['a greeting id seen before (a replayed answer?)']);
    for (const label of ['target:six', 'target:swapped']) {
      const c = scenario(label).correctness;
      expect(c).toMatchObject({ exact: 0, wrong: c.checked });
      expect(c.checked).toBeGreaterThan(0);
    }
    // Each load run checks ids afresh, so its first answer of the cached edge is still exact; every later one is a replay.
    const cached = scenario('target:cached');
    expect(cached.correctness.wrong).toBeGreaterThan(cached.correctness.exact);
    const zeroErrors = Object.fromEntries(report.targets.filter((t) => t.target.startsWith('zero errors')).map((t) => [t.scenario, t.met]));
    expect(zeroErrors).toEqual({ 'target:platform': true, 'target:six': false, 'target:swapped': false, 'target:cached': false });
    const measured = (label: string) => report.targets.find((t) => t.scenario === label && t.target.startsWith('zero errors'))!.measured;
    expect(measured('target:platform')).toStartWith('100% exact');
    expect(measured('target:six')).toStartWith('0.00% exact');
    // Wrong answers still took time: throughput is reported, but no target reads it as a success.
    expect(scenario('target:six').summary.chainRps!.median).toBeGreaterThan(0);
  });

  test('targets without PIDs report no CPU or memory instead of guessing', () => {
    const s = scenario('target:six');
    expect(s.processSummary).toEqual({});
    expect(s.summary.cpuPerRequestUs).toBeUndefined();
    expect(report.targets.some((t) => t.scenario === 'target:six' && t.target.startsWith('CPU per chain request'))).toBe(false);
  });
});
