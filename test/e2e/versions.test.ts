/**
 * Several versions of a role side by side on this machine: `npm start` runs every extra version of the config beside its
 * role's default, each on its own port, so each can be called. Callers call the default versions only: choosing between
 * versions is the mesh's routing, which the local platform does not imitate.
 */
import { afterAll, beforeAll, describe, expect, test } from 'bun:test';
import { readEnv } from '../../src/config/env';
import { versionFacts } from '../../src/config/facts';
import { loadConfig } from '../../src/config/settings';
import type { Greeting } from '../../src/greeting';
import { startInProcess, type InProcessPlatform } from '../../src/platform/in-process';
import { ProcessPlatform } from '../../src/platform/processes';
import { serviceBinary } from '../../scripts/artifacts';

const { config } = loadConfig();

async function greetings(url: string): Promise<{ status: number; body: Greeting[]; ms: number }> {
  const started = performance.now();
  const response = await fetch(`${url}/api/greeting`);
  return { status: response.status, body: (await response.json()) as Greeting[], ms: performance.now() - started };
}

const own = (body: Greeting[]) => body.at(-1)!;

describe('in one process (npm start)', () => {
  let platform: InProcessPlatform;
  beforeAll(async () => {
    platform = await startInProcess(config, { ephemeralPorts: true, versions: true, env: readEnv({ DRAIN_DELAY_MS: '0', LOG_LEVEL: 'warn' }) });
  });
  afterAll(() => platform.stop());

  test('every extra version of the config runs, each on a port of its own', () => {
    expect(platform.versions.map((v) => `${v.id}-${v.version}`).sort()).toEqual(['e-v2', 'h-v2']);
    const ports = [...platform.roles.values(), ...platform.versions.map((v) => v.role)].map((r) => r.port);
    expect(new Set(ports).size).toBe(ports.length);
  });

  test('H v2 answers on its own port as version v2 with its own greeting; H v1 as v1 with the role\'s', async () => {
    const v2 = await greetings(platform.versionUrl('h', 'v2'));
    expect(v2.status).toBe(200);
    expect(own(v2.body)).toMatchObject({ service: 'Service H', version: 'v2', message: versionFacts(config, 'h', 'v2').greeting });
    const v1 = await greetings(platform.url('h'));
    expect(own(v1.body)).toMatchObject({ service: 'Service H', version: 'v1', message: config.services.h!.greeting });
  });

  test('E v2 is slower by its configured latency, and calls the default versions of G and H', async () => {
    const v2 = await greetings(platform.versionUrl('e', 'v2'));
    expect(v2.status).toBe(200);
    expect(v2.ms).toBeGreaterThanOrEqual(versionFacts(config, 'e', 'v2').chaos.latencyMs);
    expect(v2.body.map((g) => [g.service, g.version])).toEqual([
      ['Service G', 'v1'],
      ['Service H', 'v1'],
      ['Service E', 'v2'],
    ]);
  });

  test('the chain from A reaches the default versions only: no routing between versions is imitated', async () => {
    for (let i = 0; i < 5; i++) {
      const { status, body } = await greetings(platform.url('a'));
      expect(status).toBe(200);
      expect(new Set(body.map((g) => g.version))).toEqual(new Set(['v1']));
    }
  });
});

describe('one process per version (npm start -- --processes), from the compiled binary', () => {
  let platform: ProcessPlatform;
  beforeAll(async () => {
    platform = new ProcessPlatform(config, { command: [serviceBinary()], versions: true, env: { DRAIN_DELAY_MS: '0', LOG_LEVEL: 'warn' } });
    await platform.start();
  }, 60_000);
  afterAll(() => platform.stop());

  test('H v2 is a process of its own answering v2; stopping the platform stops it cleanly too', async () => {
    expect([...platform.versions.keys()].sort()).toEqual(['service-e-v2', 'service-h-v2']);
    const v2 = await greetings(platform.versionUrl('h', 'v2'));
    expect(own(v2.body)).toMatchObject({ version: 'v2', message: versionFacts(config, 'h', 'v2').greeting });
    const exits = await platform.stop();
    expect(exits.get('service-h-v2')).toBe(0);
    expect(exits.get('h')).toBe(0);
  });
});
