/** The default local run: every role in one process on embedded backends, the D -> queue -> F leg included. */
import { afterAll, beforeAll, expect, test } from 'bun:test';
import { readEnv } from '../../src/config/env';
import { loadConfig } from '../../src/config/settings';
import { startInProcess, type InProcessPlatform } from '../../src/platform/in-process';
import { eventually } from '../support/eventually';
import { inMemoryStore } from '../support/stored';

let platform: InProcessPlatform;
beforeAll(async () => {
  platform = await startInProcess(loadConfig().config, { ephemeralPorts: true, env: readEnv({ DRAIN_DELAY_MS: '0', LOG_LEVEL: 'warn' }) });
});
afterAll(() => platform.stop());

test('A answers seven greetings and F stores the greeting D published', async () => {
  const response = await fetch(`${platform.url('a')}/api/greeting`);
  expect(response.status).toBe(200);
  const body = (await response.json()) as { id: string; service: string }[];
  expect(body.map((g) => g.service)).toEqual(['Service D', 'Service G', 'Service H', 'Service E', 'Service B', 'Service C', 'Service A']);
  const fromD = body[0]!;
  const messages = { database: 'service-f', collection: 'messages' };
  await eventually(() => inMemoryStore(platform.store, messages).length > 0, 'F stores the message').catch(() => undefined);
  expect(inMemoryStore(platform.store, messages).map((g) => g.id)).toEqual([fromD.id]);
  for (const [id, stored] of [['c', 5], ['g', 1], ['h', 2]] as const) {
    const ids = inMemoryStore(platform.store, { database: `service-${id}`, collection: 'greetings' }).map((g) => g.id);
    expect(ids).toEqual([body[stored]!.id]);
  }
});

test('every role is ready', async () => {
  for (const id of platform.roles.keys()) expect((await fetch(`${platform.url(id)}/api/ready`)).status).toBe(200);
});

test('stopping under load answers every request in flight with its whole answer: callers stop before what they call', async () => {
  const loaded = await startInProcess(loadConfig().config, { ephemeralPorts: true, env: readEnv({ DRAIN_DELAY_MS: '0', LOG_LEVEL: 'error' }) });
  const edge = `${loaded.url('a')}/api/greeting`;
  const statuses = new Map<number, number>();
  let refused = 0;
  let stopping = false;
  const loop = async () => {
    while (!stopping || refused === 0) {
      try {
        const response = await fetch(edge);
        await response.arrayBuffer();
        statuses.set(response.status, (statuses.get(response.status) ?? 0) + 1);
      } catch {
        // Refused: the edge stopped accepting. Expected once the stop began; never a 502.
        refused++;
        return;
      }
    }
  };
  const loops = Array.from({ length: 40 }, loop);
  // Stopped once the platform is under load, however slowly a busy machine gets it there.
  await eventually(() => (statuses.get(200) ?? 0) > 100, 'a hundred answers under load', 15_000).catch(() => undefined);
  stopping = true;
  await loaded.stop();
  await Promise.all(loops);
  expect([...statuses.keys()]).toEqual([200]);
  expect(statuses.get(200)!).toBeGreaterThan(50);
});
