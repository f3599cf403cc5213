/**
 * The eight roles as separate processes of the compiled binary, wired by env the way the cluster wires them.
 */
import { afterAll, beforeAll, describe, expect, test } from 'bun:test';
import { loadConfig } from '../../src/config/settings';
import { ProcessPlatform } from '../../src/platform/processes';
import { serviceBinary } from '../../scripts/artifacts';

type Entry = { service: string; error?: string; upstream?: string; id?: string };
const ORDER = ['Service D', 'Service G', 'Service H', 'Service E', 'Service B', 'Service C', 'Service A'];
const TIMEOUT_MS = 1500;

let platform: ProcessPlatform;
const unexpected: string[] = [];

beforeAll(async () => {
  platform = new ProcessPlatform(loadConfig().config, {
    command: [serviceBinary()],
    env: { DRAIN_DELAY_MS: '100', UPSTREAM_TIMEOUT_MS: String(TIMEOUT_MS), LOG_LEVEL: 'warn' },
    onUnexpectedExit: (id, how) => unexpected.push(`${id}: ${how}`),
  });
  await platform.start();
}, 60_000);

afterAll(async () => {
  await platform?.stop();
});

const askA = async () => {
  const response = await fetch(`${platform.url('a')}/api/greeting`);
  return { status: response.status, body: (await response.json()) as Entry[] };
};

describe('the platform as eight processes', () => {
  test('A answers the seven greetings in order', async () => {
    const { status, body } = await askA();
    expect(status).toBe(200);
    expect(body.map((g) => g.service)).toEqual(ORDER);
    expect(new Set(body.map((g) => g.id)).size).toBe(7);
  });

  test('with C killed, A answers 502 with six greetings and C named as failed, within the timeout', async () => {
    await platform.kill('c', 'SIGKILL');
    const started = performance.now();
    const { status, body } = await askA();
    expect(performance.now() - started).toBeLessThan(TIMEOUT_MS + 500);
    expect(status).toBe(502);
    expect(body.map((g) => g.service)).toEqual(ORDER);
    expect(body.filter((g) => g.id)).toHaveLength(6);
    expect(body[5]).toEqual({ service: 'Service C', error: expect.stringMatching(/^request failed: /), upstream: platform.url('c') });
  });

  test('with C back, answers are whole again', async () => {
    await platform.restart('c');
    const { status, body } = await askA();
    expect(status).toBe(200);
    expect(body.every((g) => g.id)).toBe(true);
  });

  test('no role died on its own', () => {
    expect(unexpected).toEqual([]);
  });

  test('SIGTERM ends every process with exit code 0', async () => {
    const exits = await platform.stop();
    expect(Object.fromEntries(exits)).toEqual({ a: 0, b: 0, c: 0, d: 0, e: 0, f: 0, g: 0, h: 0 });
  }, 20_000);
});
