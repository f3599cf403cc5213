/** Adding a role is a config edit: a Service I under C, no code touched, shows up in A's answer. */
import { afterAll, expect, test } from 'bun:test';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseConfig } from '../../src/config/validate';
import { ProcessPlatform } from '../../src/platform/processes';
import { ROOT, serviceBinary } from '../../scripts/artifacts';

let platform: ProcessPlatform | undefined;
afterAll(async () => {
  await platform?.stop();
});

test('Service I under C appears in A answer, before C', async () => {
  const raw = JSON.parse(readFileSync(join(ROOT, 'config', 'services.json'), 'utf8'));
  raw.services.i = { name: 'Service I', greeting: 'Hej, from Service I!', port: 8088 };
  raw.services.c.upstreams = ['i'];
  const path = join(mkdtempSync(join(tmpdir(), 'gm-config-')), 'services.json');
  writeFileSync(path, JSON.stringify(raw));

  platform = new ProcessPlatform(parseConfig(readFileSync(path, 'utf8'), path), {
    command: [serviceBinary()],
    env: { CONFIG_PATH: path, DRAIN_DELAY_MS: '0' },
  });
  await platform.start();
  const response = await fetch(`${platform.url('a')}/api/greeting`);
  expect(response.status).toBe(200);
  const body = (await response.json()) as { service: string; message: string }[];
  expect(body.map((g) => g.service)).toEqual(['Service D', 'Service G', 'Service H', 'Service E', 'Service B', 'Service I', 'Service C', 'Service A']);
  expect(body[5]!.message).toBe('Hej, from Service I!');
}, 60_000);
