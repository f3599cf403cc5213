/** The Node bundle as eight processes under the machine's Node: the same answers as the compiled binary. */
import { afterAll, beforeAll, expect, test } from 'bun:test';
import { loadConfig } from '../../src/config/settings';
import { ProcessPlatform } from '../../src/platform/processes';
import { nodeBundle } from '../../scripts/artifacts';

let platform: ProcessPlatform;
beforeAll(async () => {
  platform = new ProcessPlatform(loadConfig().config, { command: ['node', nodeBundle()], env: { DRAIN_DELAY_MS: '0', UPSTREAM_TIMEOUT_MS: '2000' } });
  await platform.start(30_000);
}, 60_000);
afterAll(() => platform?.stop());

const askA = async () => {
  const response = await fetch(`${platform.url('a')}/api/greeting`);
  return { status: response.status, body: (await response.json()) as { service: string; id?: string; error?: string }[] };
};

test('A answers the seven greetings in order', async () => {
  const { status, body } = await askA();
  expect(status).toBe(200);
  expect(body.map((g) => g.service)).toEqual(['Service D', 'Service G', 'Service H', 'Service E', 'Service B', 'Service C', 'Service A']);
});

test('with C killed, A answers 502 with C named as failed, and every process exits 0 on SIGTERM', async () => {
  await platform.kill('c', 'SIGKILL');
  const { status, body } = await askA();
  expect(status).toBe(502);
  expect(body[5]).toMatchObject({ service: 'Service C', error: expect.stringMatching(/^request failed: /) });
  platform.roles.delete('c');
  const exits = await platform.stop();
  expect([...exits.values()].every((how) => how === 0)).toBe(true);
});
