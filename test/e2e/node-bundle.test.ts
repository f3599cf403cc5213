/** The Node bundle as eight processes under the machine's Node: the same answers as the compiled binary. */
import { afterAll, beforeAll, expect, test } from 'bun:test';
import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { join } from 'node:path';
import { scratchDir } from '../../bench/compile';
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

test('under Node, CONFIG_PATH is read: a file that is not there, or not JSON, stops the start with 78 and names it', () => {
  const scratch = scratchDir();
  try {
    const broken = join(scratch.path, 'broken.json');
    writeFileSync(broken, '{"services": ');
    const start = (path: string) => {
      const r = spawnSync('node', [nodeBundle()], { env: { ...process.env, ROLE: 'b', PORT: '18399', CONFIG_PATH: path }, encoding: 'utf8', timeout: 20_000 });
      return { status: r.status, stderr: r.stderr };
    };
    expect(start(join(scratch.path, 'missing.json'))).toEqual({ status: 78, stderr: expect.stringMatching(/missing\.json.*cannot read: ENOENT/) });
    const notJson = start(broken);
    expect(notJson).toEqual({ status: 78, stderr: expect.stringContaining('broken.json') });
    expect(notJson.stderr).not.toContain('cannot read');
  } finally {
    scratch.dispose();
  }
});

/** One raw HTTP/1.1 request (a client could send any Host), and the status line and body of the answer. */
function raw(port: number, target: string, host: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1', () => socket.write(`GET ${target} HTTP/1.1\r\nHost: ${host}\r\nConnection: close\r\n\r\n`));
    let text = '';
    socket.on('data', (c: Buffer) => (text += c));
    socket.on('end', () => resolve({ status: Number(/^HTTP\/1\.1 (\d{3})/.exec(text)?.[1] ?? 0), body: text.split('\r\n\r\n').slice(1).join('') }));
    socket.on('error', reject);
  });
}

test('under Node too, a role routes by the request target, never by the Host header', async () => {
  const port = Number(new URL(platform.url('g')).port);
  // A Host that would move the path, and Hosts a URL cannot hold: the health route, as on Bun.
  for (const host of ['a/api/greeting?', '[::1', 'x@y', 'xx']) expect({ host, ...(await raw(port, '/api/health', host)) }).toEqual({ host, status: 200, body: expect.stringContaining('"alive":true') });
  expect((await raw(port, '/xx/api/greeting', 'a')).status).toBe(404);
  expect((await raw(port, 'http://elsewhere/api/health', 'a')).status).toBe(200);
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
