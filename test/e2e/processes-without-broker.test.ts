/**
 * `npm start -- --processes` on embedded backends: an in-memory queue lives in its publisher's process, so the queue leg cannot
 * join. The platform says so at start with the fix, and a publisher past MEMORY_QUEUE_LIMIT answers 503 with the reason, its
 * callers a partial 502 naming it: a visible, named degradation, never a silent drop.
 */
import { afterAll, expect, test } from 'bun:test';
import { spawn, type ChildProcess } from 'node:child_process';
import { ROOT, serviceBinary } from '../../scripts/artifacts';
import { configWithFreePorts } from '../support/free-ports';
import { waitUntil } from '../support/backends';

let platform: ChildProcess | undefined;
afterAll(async () => {
  if (platform && platform.exitCode === null) {
    platform.kill('SIGTERM');
    await new Promise((r) => platform!.once('exit', r));
  }
});

test('the platform warns that the queue leg does not join, and D past the limit is a named 503, A a partial 502', async () => {
  const { path, ports } = await configWithFreePorts();
  let output = '';
  const env: Record<string, string | undefined> = { ...process.env, CONFIG_PATH: path, MEMORY_QUEUE_LIMIT: '2', DRAIN_DELAY_MS: '0', LOG_LEVEL: 'info' };
  delete env.RABBITMQ_CONN;
  delete env.MONGO_CONN;
  platform = spawn(process.execPath, ['src/platform.ts', '--processes', '--binary', serviceBinary()], { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
  platform.stdout!.on('data', (c: Buffer) => (output += c));
  platform.stderr!.on('data', (c: Buffer) => (output += c));
  await waitUntil(async () => expect(output).toContain('platform up: one process per role'), 30_000, 'the platform did not come up');

  const warning = output.split('\n').find((l) => l.includes('queue leg'));
  expect(warning).toBeDefined();
  expect(JSON.parse(warning!)).toMatchObject({ level: 'warn', publishers: ['d'], limit: '2 (MEMORY_QUEUE_LIMIT)', fix: expect.stringContaining('RABBITMQ_CONN') });

  const edge = `http://127.0.0.1:${ports.a}/api/greeting`;
  for (let i = 0; i < 2; i++) expect((await fetch(edge)).status).toBe(200);
  const d = await fetch(`http://127.0.0.1:${ports.d}/api/greeting`);
  expect(d.status).toBe(503);
  expect(((await d.json()) as { error: string }).error).toContain('is full (2 messages');
  const partial = await fetch(edge);
  expect(partial.status).toBe(502);
  const greetings = (await partial.json()) as { service: string; error?: string }[];
  expect(greetings.find((g) => g.service === 'Service D')?.error).toContain('is full');
  expect(greetings.filter((g) => g.error === undefined).map((g) => g.service)).toContain('Service A');
}, 60_000);
