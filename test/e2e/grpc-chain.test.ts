/**
 * The gRPC variant: the same eight roles, one binary, every hop over gRPC (the config or `--transport grpc` says so), REST
 * and the web UI at the edge. A's seven greetings in order; a killed leaf gives the partial answer, visible at the edge as
 * REST's 502 with the error entry in place; a real client (grpcurl) lists, describes and calls an inner role through
 * reflection and asks its health; a mixed chain (some hops HTTP, some gRPC) answers the same; `npm start -- --transport grpc`
 * runs it all in one process.
 */
import { afterAll, beforeAll, describe, expect, test } from 'bun:test';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig } from '../../src/config/settings';
import { parseConfig } from '../../src/config/validate';
import { freePort, ProcessPlatform } from '../../src/platform/processes';
import { ROOT, serviceBinary } from '../../scripts/artifacts';
import { grpcurl, grpcurlBinary } from '../support/grpcurl';
import { describeRequiring } from '../support/requirements';
import { missingTool } from '../support/tools';

const ORDER = ['Service D', 'Service G', 'Service H', 'Service E', 'Service B', 'Service C', 'Service A'];
type Entry = { service: string; error?: string; version?: string };

async function askA(url: string) {
  const response = await fetch(`${url}/api/greeting`);
  return { status: response.status, body: (await response.json()) as Entry[] };
}

describe('every hop over gRPC: eight processes of the binary', () => {
  let platform: ProcessPlatform;
  beforeAll(async () => {
    platform = new ProcessPlatform(loadConfig().config, {
      command: [serviceBinary()],
      env: { DRAIN_DELAY_MS: '0', LOG_LEVEL: 'warn', UPSTREAM_TIMEOUT_MS: '2000' },
      transport: 'grpc',
    });
    await platform.start(30_000);
  }, 60_000);
  afterAll(() => platform.stop());

  test("A answers its seven greetings in order, over REST, each with its version; every other role serves gRPC", async () => {
    const { status, body } = await askA(platform.url('a'));
    expect(status).toBe(200);
    expect(body.map((g) => g.service)).toEqual(ORDER);
    expect(body.every((g) => g.version === 'v1')).toBe(true);
    expect([...platform.grpcPorts.keys()].sort()).toEqual(['b', 'c', 'd', 'e', 'f', 'g', 'h'].filter((id) => id !== 'f'));
  });

  test('a killed leaf: A answers 502 within the timeout, the leaf an error entry in its place, the rest whole', async () => {
    await platform.kill('g');
    try {
      const started = performance.now();
      const { status, body } = await askA(platform.url('a'));
      expect(performance.now() - started).toBeLessThan(2_500);
      expect(status).toBe(502);
      expect(body.map((e) => e.service)).toEqual(ORDER);
      expect(body[1]).toMatchObject({ service: 'Service G', error: expect.stringMatching(/^UNAVAILABLE/) });
      expect(body.filter((e) => e.error)).toHaveLength(1);
    } finally {
      await platform.restart('g');
    }
    // E's channel to G reconnects on its own, within its short reconnect backoff.
    let status = 0;
    for (const until = Date.now() + 5_000; status !== 200 && Date.now() < until; await Bun.sleep(100)) status = (await askA(platform.url('a'))).status;
    expect(status).toBe(200);
  });

  describeRequiring('through grpcurl', missingTool(grpcurlBinary), ({ test }) => {
    test('lists and describes an inner role by reflection, calls it, and gets SERVING from its health', async () => {
      const b = `127.0.0.1:${platform.grpcPorts.get('b')}`;
      expect((await grpcurl('-plaintext', b, 'list')).out).toContain('greeting.v3.GreetingService');
      expect((await grpcurl('-plaintext', b, 'describe', 'greeting.v3.Greeting')).out).toContain('string version = 6;');
      const called = await grpcurl('-plaintext', '-d', '{}', b, 'greeting.v3.GreetingService/Greeting');
      expect(called.code).toBe(0);
      expect((JSON.parse(called.out) as { greeting: Entry[] }).greeting.map((g) => g.service)).toEqual(['Service D', 'Service G', 'Service H', 'Service E', 'Service B']);
      expect(JSON.parse((await grpcurl('-plaintext', '-d', '{"service": ""}', b, 'grpc.health.v1.Health/Check')).out)).toEqual({ status: 'SERVING' });
    });
  });
});

test('a mixed chain (A->C and B->E over gRPC, the rest over HTTP) gives the same answer', async () => {
  const raw = JSON.parse(readFileSync(join(ROOT, 'config', 'services.json'), 'utf8'));
  raw.services.c.transport = 'grpc';
  raw.services.b.upstreamTransport = { e: 'grpc' };
  const path = join(mkdtempSync(join(tmpdir(), 'gm-mixed-')), 'services.json');
  writeFileSync(path, JSON.stringify(raw));
  const platform = new ProcessPlatform(parseConfig(readFileSync(path, 'utf8'), path), { command: [serviceBinary()], env: { CONFIG_PATH: path, DRAIN_DELAY_MS: '0', LOG_LEVEL: 'warn' } });
  try {
    await platform.start(30_000);
    expect([...platform.grpcPorts.keys()].sort()).toEqual(['c', 'e']);
    expect(platform.envFor('a').SERVICE_C_URL).toStartWith('grpc://');
    expect(platform.envFor('a').SERVICE_B_URL).toStartWith('http://');
    const { status, body } = await askA(platform.url('a'));
    expect(status).toBe(200);
    expect(body.map((g) => g.service)).toEqual(ORDER);
  } finally {
    await platform.stop();
  }
}, 60_000);

test('`npm start -- --transport grpc`: all roles in one process, every hop over gRPC', async () => {
  const raw = JSON.parse(readFileSync(join(ROOT, 'config', 'services.json'), 'utf8'));
  for (const role of Object.values<{ port: number; grpcPort?: number; versions?: Record<string, { port?: number }> }>(raw.services)) {
    role.port = await freePort();
    role.grpcPort = await freePort();
    // npm start runs the extra versions too (gRPC on their port + 10000): on free ports, not ones derived from random ones.
    for (const v of Object.values(role.versions ?? {})) v.port = await freePort();
  }
  const path = join(mkdtempSync(join(tmpdir(), 'gm-grpc-start-')), 'services.json');
  writeFileSync(path, JSON.stringify(raw));
  const child: ChildProcess = spawn(process.execPath, ['src/platform.ts', '--transport', 'grpc'], { cwd: ROOT, env: { ...process.env, CONFIG_PATH: path, LOG_LEVEL: 'info' }, stdio: ['ignore', 'pipe', 'inherit'] });
  let out = '';
  child.stdout!.on('data', (c: Buffer) => (out += c));
  try {
    const edge = `http://127.0.0.1:${raw.services.a.port}`;
    for (let i = 0; i < 600 && !out.includes('platform up') && child.exitCode === null; i++) await Bun.sleep(50);
    expect(child.exitCode).toBeNull();
    const { status, body } = await askA(edge);
    expect(status).toBe(200);
    expect(body.map((g) => g.service)).toEqual(ORDER);
    // B logged that it serves gRPC on its configured gRPC port, and B's calls went over it.
    const b = out.split('\n').filter(Boolean).map((l) => JSON.parse(l) as Record<string, unknown>).find((l) => l.role === 'b' && l.msg === 'serving')!;
    expect(b.grpcPort).toBe(raw.services.b.grpcPort);
    const metrics = await (await fetch(`http://127.0.0.1:${raw.services.b.port}/api/metrics`)).text();
    expect(metrics).toMatch(/grpc_server_handled_total\{role="b",grpc_type="unary",grpc_service="greeting.v3.GreetingService",grpc_method="Greeting",grpc_code="OK"[^}]*\} 1/);
  } finally {
    // A platform that already exited (a failed start) has no exit left to wait for.
    if (child.exitCode === null && child.signalCode === null) {
      const exited = new Promise((r) => child.once('exit', r));
      child.kill('SIGTERM');
      await exited;
    }
  }
}, 60_000);
