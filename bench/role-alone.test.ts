/**
 * The role-by-role comparison, in tiny runs (fractions of a second of load): its accounting and its check of every answer,
 * not any speed. Role E has upstreams, so its run also starts the bare chain under it.
 */
import { describe, expect, test } from 'bun:test';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { serviceBinary } from '../scripts/artifacts';
import { loadConfig } from '../src/config/settings';
import { parseRoleAloneArgs, roleAloneText, runRoleAlone, RoleAloneUsageError } from './role-alone';

const { config } = loadConfig();
const TINY = ['--rounds', '2', '--round-ms', '200', '--warm-up-ms', '200', '--connections', '2'];

describe('arguments', () => {
  const parse = (...argv: string[]) => () => parseRoleAloneArgs(argv, config);

  test('a role the config does not have, a build named twice, env for no build, env that is not an object: each named', () => {
    expect(parse('--role', 'x', '--build', 'a=bin')).toThrow(new RoleAloneUsageError('--role: x is not a role of the config (a, b, c, d, e, f, g, h)'));
    expect(parse('--role', 'g', '--build', 'a=bin', '--build', 'a=other')).toThrow('--build: a is given twice');
    expect(parse('--role', 'g', '--build', 'a=bin', '--build-env', 'b={}')).toThrow('--build-env: no --build named b');
    expect(parse('--role', 'g', '--build', 'a=bin', '--env', '["x"]')).toThrow('--env: must be a JSON object of strings');
    expect(parse('--role', 'g', '--build', 'a=bin', '--rounds', '0')).toThrow('--rounds: must be a whole number of at least 1, got 0');
    expect(parse('--role', 'g')).toThrow('--build: give at least one');
  });

  test('builds keep their order and their own env', () => {
    const options = parseRoleAloneArgs(['--role', 'e', '--build', 'now=dist/x', '--build', 'then=/tmp/y=z', '--build-env', 'then={"A":"1"}', ...TINY], config);
    expect(options.builds).toEqual([
      { name: 'now', binary: 'dist/x', env: {} },
      { name: 'then', binary: '/tmp/y=z', env: { A: '1' } },
    ]);
    expect([options.rounds, options.roundMs, options.warmUpMs, options.connections]).toEqual([2, 200, 200, 2]);
  });

  test('the command line says what is wrong: a usage error with the usage, exit 64; a run that fails in one line, exit 1', () => {
    const run = spawnSync(process.execPath, [join(import.meta.dir, 'role-alone.ts'), '--role', 'zz', '--build', 'a=b'], { encoding: 'utf8' });
    expect(run.status).toBe(64);
    expect(run.stderr).toContain('--role: zz is not a role of the config');
    expect(run.stderr).toContain('Usage: bun bench/role-alone.ts');
    const missing = spawnSync(process.execPath, [join(import.meta.dir, 'role-alone.ts'), '--role', 'g', '--build', 'ghost=/nonexistent/x'], { encoding: 'utf8' });
    expect({ status: missing.status, stderr: missing.stderr.trim() }).toEqual({
      status: 1,
      stderr: 'bench:role: ghost (/nonexistent/x): role g exited while starting (ENOENT); its last line: cannot run /nonexistent/x: ENOENT',
    });
  });
});

describe('a tiny run', () => {
  test(
    'role E over the bare chain: two copies of the binary, every answer exact, CPU per request and thread shares reported',
    async () => {
      const binary = serviceBinary();
      const options = parseRoleAloneArgs(['--role', 'e', '--build', `one=${binary}`, '--build', `two=${binary}`, ...TINY], config);
      const results = await runRoleAlone(options, config);
      expect(results.map((r) => r.name)).toEqual(['one', 'two']);
      for (const r of results) {
        expect(r.cpuUs).toHaveLength(2);
        for (const us of r.cpuUs) expect(us).toBeGreaterThan(0);
        expect(r.checked).toBeGreaterThan(10);
        expect({ wrong: r.wrong, reasons: r.reasons }).toEqual({ wrong: 0, reasons: {} });
        const shares = Object.values(r.threads).reduce((a, b) => a + b, 0);
        expect(shares).toBeGreaterThan(0.9);
        expect(shares).toBeLessThanOrEqual(1.0001);
        expect(r.threads.main).toBeGreaterThan(0.3);
      }
      const text = roleAloneText('e', results);
      expect(text).toContain('role e, CPU per request');
      expect(text).toMatch(/one +[\d.]+ µs \[[\d.]+-[\d.]+\] {2}1\.000×/);
    },
    120_000,
  );

  test(
    'a build that answers as another role is counted wrong on every answer, with the reason',
    async () => {
      const binary = serviceBinary();
      const options = parseRoleAloneArgs(['--role', 'g', '--build', `right=${binary}`, '--build', `wrong=${binary}`, '--build-env', 'wrong={"ROLE":"h"}', ...TINY], config);
      const [right, wrong] = await runRoleAlone(options, config);
      expect(right!.wrong).toBe(0);
      expect(wrong!.checked).toBeGreaterThan(10);
      expect(wrong!.wrong).toBe(wrong!.checked);
      expect(Object.keys(wrong!.reasons).join(' ')).toContain('Service H');
      expect(roleAloneText('g', [right!, wrong!])).toContain(`wrong ${wrong!.checked} of ${wrong!.checked}`);
    },
    120_000,
  );

  test(
    "--sampled-caller: a traced role continues the caller's trace; without it, it starts its own",
    async () => {
      const binary = serviceBinary();
      const posted: { parentId?: string; kind?: string }[] = [];
      const collector = Bun.serve({
        port: 0,
        hostname: '127.0.0.1',
        fetch: async (request) => (posted.push(...((await request.json()) as typeof posted)), new Response(null, { status: 202 })),
      });
      try {
        const serverSpans = async (...flags: string[]) => {
          posted.length = 0;
          const env = JSON.stringify({ ZIPKIN_URL: `http://127.0.0.1:${collector.port}/api/v2/spans`, TRACE_SAMPLE_RATIO: '1' });
          const options = parseRoleAloneArgs(['--role', 'g', '--build', `traced=${binary}`, '--env', env, ...TINY, ...flags], config);
          const [result] = await runRoleAlone(options, config); // the role flushes its spans as it stops
          expect(result!.wrong).toBe(0);
          return posted.filter((span) => span.kind === 'SERVER');
        };
        const continued = await serverSpans('--sampled-caller');
        expect(continued.length).toBeGreaterThan(10);
        expect(continued.every((span) => typeof span.parentId === 'string')).toBe(true);
        const own = await serverSpans();
        expect(own.length).toBeGreaterThan(10);
        expect(own.some((span) => span.parentId !== undefined)).toBe(false);
      } finally {
        await collector.stop(true);
      }
    },
    120_000,
  );

  test('a build that is not there fails the run with its name instead of hanging', async () => {
    const options = parseRoleAloneArgs(['--role', 'g', '--build', 'ghost=/nonexistent/greeting-mesh', ...TINY], config);
    await expect(runRoleAlone(options, config)).rejects.toThrow('ghost (/nonexistent/greeting-mesh): role g exited while starting (ENOENT)');
  });
});
