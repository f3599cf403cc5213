/**
 * SIGTERM as Kubernetes sends it: readiness turns false at once, requests are still served for the drain delay, in-flight
 * requests finish, and the process exits 0. A second signal forces the exit.
 */
import { afterEach, describe, expect, test } from 'bun:test';
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { loadConfig } from '../../src/config/settings';
import { ProcessPlatform } from '../../src/platform/processes';
import { serviceBinary } from '../../scripts/artifacts';
import { eventually } from '../support/eventually';

const { config } = loadConfig();
const onlyH = { ...config, services: { h: config.services.h! } };
let platform: ProcessPlatform | undefined;

afterEach(async () => {
  await platform?.stop();
  platform = undefined;
});

async function startH(env: Record<string, string>) {
  platform = new ProcessPlatform(onlyH, { command: [serviceBinary()], env });
  await platform.start();
  return platform;
}

describe('shutdown', () => {
  test('during the drain delay readiness is false but greetings are still served', async () => {
    const p = await startH({ DRAIN_DELAY_MS: '3000' });
    const h = p.roles.get('h')!;
    h.child.kill('SIGTERM');
    let ready: Response | undefined;
    // Unready as soon as the signal is handled, well inside the drain delay.
    await eventually(async () => (ready = await fetch(`${p.url('h')}/api/ready`)).status === 503, 'readiness turns 503', 1_000);
    expect(((await ready!.json()) as { phase: string }).phase).toBe('draining');
    expect((await fetch(`${p.url('h')}/api/greeting`)).status).toBe(200);
    expect((await fetch(`${p.url('h')}/api/health`)).status).toBe(200);
    expect(await h.exited).toBe(0);
  });

  test('an in-flight request finishes before the process exits 0', async () => {
    const p = await startH({ DRAIN_DELAY_MS: '0', CHAOS_LATENCY_MS: '1500' });
    const inFlight = fetch(`${p.url('h')}/api/greeting`);
    // Long enough for the request to be in the role on a busy machine, well short of its 1.5 s.
    await Bun.sleep(500);
    p.roles.get('h')!.child.kill('SIGTERM');
    const response = await inFlight;
    expect(response.status).toBe(200);
    expect(((await response.json()) as { service: string }[])[0]!.service).toBe('Service H');
    expect(await p.roles.get('h')!.exited).toBe(0);
  });

  test('kept-alive client connections lose no request: every answer from the drain on says Connection: close', async () => {
    const p = await startH({ DRAIN_DELAY_MS: '400' });
    const client = spawn('node', [join(import.meta.dir, '..', 'support', 'keep-alive-client.mjs'), `${p.url('h')}/api/greeting`, '8'], { stdio: ['pipe', 'pipe', 'pipe'] });
    let out = '';
    client.stdout.on('data', (c: Buffer) => (out += c));
    // Signalled once the client's connections carry traffic (not after a fixed sleep, which a busy machine outlasts).
    await new Promise<void>((resolve) => client.stderr.on('data', (c: Buffer) => String(c).includes('warm') && resolve()));
    p.roles.get('h')!.child.kill('SIGTERM');
    expect(await p.roles.get('h')!.exited).toBe(0);
    client.stdin.end('stop');
    await new Promise((r) => client.once('close', r));
    const counts = JSON.parse(out) as { ok: number; saidClose: number; lostOnReused: number; otherErrors: Record<string, number> };
    expect(counts.ok).toBeGreaterThanOrEqual(50);
    expect(counts.saidClose).toBeGreaterThan(0);
    expect(counts.lostOnReused).toBe(0);
    expect(counts.otherErrors).toEqual({});
  });

  test('the drain delay comes before the shutdown budget, not out of it: a drain longer than SHUTDOWN_TIMEOUT_MS still exits 0', async () => {
    const p = await startH({ DRAIN_DELAY_MS: '1200', SHUTDOWN_TIMEOUT_MS: '300' });
    const h = p.roles.get('h')!;
    const signalled = performance.now();
    h.child.kill('SIGTERM');
    expect(await h.exited).toBe(0);
    expect(performance.now() - signalled).toBeGreaterThanOrEqual(1100);
  });

  test('a stop that overruns drain delay plus budget is cut at that deadline, with exit 1', async () => {
    // An in-flight greeting of 3 s against 200 ms of drain and 300 ms of budget.
    const p = await startH({ DRAIN_DELAY_MS: '200', SHUTDOWN_TIMEOUT_MS: '300', CHAOS_LATENCY_MS: '3000' });
    const inFlight = fetch(`${p.url('h')}/api/greeting`).catch(() => undefined);
    await Bun.sleep(1_000);
    const h = p.roles.get('h')!;
    const signalled = performance.now();
    h.child.kill('SIGTERM');
    expect(await h.exited).toBe(1);
    const took = performance.now() - signalled;
    expect(took).toBeGreaterThanOrEqual(450);
    expect(took).toBeLessThan(2_500);
    await inFlight;
  });

  test('a second signal forces the exit', async () => {
    const p = await startH({ DRAIN_DELAY_MS: '10000' });
    const h = p.roles.get('h')!;
    h.child.kill('SIGTERM');
    await Bun.sleep(200);
    h.child.kill('SIGTERM');
    expect(await h.exited).toBe(1);
  });

  test('an invalid LOG_LEVEL stops the start with exit 78 and says why', async () => {
    platform = new ProcessPlatform(onlyH, { command: [serviceBinary()], env: { LOG_LEVEL: 'loud' } });
    await expect(platform.start(5000)).rejects.toThrow("LOG_LEVEL: 'loud' is not one of debug, info, warn, error");
    expect(await platform.roles.get('h')!.exited).toBe(78);
  });
});
