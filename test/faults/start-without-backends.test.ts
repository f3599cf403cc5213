/**
 * `npm start` on real servers that are down at start-up: every role serves, the ones that need the database are not ready,
 * the platform stays up (only a role process that exits is a platform failure), and they turn ready when it comes back.
 */
import { expect } from 'bun:test';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from '../../src/platform/processes';
import { describeWithBackends, waitUntil } from '../support/backends';
import { ROOT, serviceBinary } from '../../scripts/artifacts';

await describeWithBackends('npm start while MongoDB is down', { mongo: 'control' }, ({ mongo }, { test, afterAll }) => {
  let platform: ChildProcess | undefined;
  afterAll(async () => {
    if (platform && platform.exitCode === null) {
      platform.kill('SIGTERM');
      await new Promise((r) => platform!.once('exit', r));
    }
    if (!mongo!.isRunning()) await mongo!.start();
  });

  test('roles serve and wait, unready, for the database; the platform survives the outage and is whole once it is back', async () => {
    const raw = JSON.parse(readFileSync(join(ROOT, 'config', 'services.json'), 'utf8'));
    const ports: Record<string, number> = {};
    for (const id of Object.keys(raw.services)) raw.services[id].port = ports[id] = await freePort();
    const config = join(mkdtempSync(join(tmpdir(), 'gm-outage-')), 'services.json');
    writeFileSync(config, JSON.stringify(raw));

    await mongo!.stop();
    let output = '';
    platform = spawn(process.execPath, ['src/platform.ts', '--binary', serviceBinary()], {
      cwd: ROOT,
      env: { ...process.env, CONFIG_PATH: config, MONGO_CONN: mongo!.url, LOG_LEVEL: 'info' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    platform.stdout!.on('data', (c: Buffer) => (output += c));
    platform.stderr!.on('data', (c: Buffer) => (output += c));
    const url = (id: string) => `http://127.0.0.1:${ports[id]}`;

    await waitUntil(async () => expect(output).toContain('platform up: one process per role'), 30_000, 'the platform did not come up');
    const up = JSON.parse(output.split('\n').find((l) => l.includes('platform up'))!) as { notReadyYet: string[] };
    expect(up.notReadyYet.sort()).toEqual(['c', 'f', 'g', 'h']);
    for (const id of Object.keys(ports)) expect((await fetch(`${url(id)}/api/health`)).status).toBe(200);
    expect((await fetch(`${url('c')}/api/ready`)).status).toBe(503);
    // The platform waits for liveness, not readiness (it used to give up after 60 s and take every role down): nothing exits
    // while the database is away, and the answer says which roles cannot store.
    await Bun.sleep(3_000);
    expect(platform.exitCode).toBeNull();
    const degraded = await fetch(`${url('a')}/api/greeting`);
    expect(degraded.status).toBe(502);

    await mongo!.start();
    await waitUntil(
      async () => {
        for (const id of Object.keys(ports)) expect((await fetch(`${url(id)}/api/ready`)).status).toBe(200);
      },
      45_000,
      'not every role turned ready after the database came back',
    );
    const whole = await fetch(`${url('a')}/api/greeting`);
    expect(whole.status).toBe(200);
    expect(((await whole.json()) as unknown[]).length).toBe(7);
  }, 120_000);
});
