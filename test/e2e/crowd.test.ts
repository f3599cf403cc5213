/**
 * The default `npm start` (every role in one process) under a crowd: 400 concurrent clients get whole answers, none an error.
 * All roles share the process's one fetch cap; without a budget per role, A's calls filled it and the calls B and E needed to
 * make to answer A waited behind them until every answer was a 502 after the full timeout. With a cap set very low the
 * platform is slow, never stuck; a cap too low to share is refused at start-up. The load comes from autocannon under Node in
 * its own process, so the client's own connection limits are not the platform's.
 */
import { afterEach, expect, test } from 'bun:test';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from '../../src/platform/processes';
import { ROOT } from '../../scripts/artifacts';

let platform: ChildProcess | undefined;
afterEach(async () => {
  if (!platform || platform.exitCode !== null) return;
  const exited = new Promise((r) => platform!.once('exit', r));
  platform.kill('SIGTERM');
  await exited;
});

async function startPlatform(env: Record<string, string> = {}): Promise<string> {
  const raw = JSON.parse(readFileSync(join(ROOT, 'config', 'services.json'), 'utf8'));
  for (const role of Object.values<{ port: number; versions?: Record<string, { port?: number }> }>(raw.services)) {
    role.port = await freePort();
    // npm start runs the extra versions too, on ports of their own.
    for (const v of Object.values(role.versions ?? {})) v.port = await freePort();
  }
  const path = join(mkdtempSync(join(tmpdir(), 'gm-crowd-')), 'services.json');
  writeFileSync(path, JSON.stringify(raw));
  const started = spawn(process.execPath, ['src/platform.ts'], { cwd: ROOT, env: { ...process.env, CONFIG_PATH: path, LOG_LEVEL: 'error', ...env }, stdio: ['ignore', 'ignore', 'pipe'] });
  platform = started;
  let stderr = '';
  started.stderr!.on('data', (c: Buffer) => (stderr += c));
  const edge = `http://127.0.0.1:${raw.services.a.port}`;
  // A start from source on a busy machine can take seconds: wait up to a minute, and stop at once if the platform exits.
  for (const deadline = Date.now() + 60_000; Date.now() < deadline && started.exitCode === null; await Bun.sleep(50)) {
    if (await fetch(`${edge}/api/ready`).then((r) => r.ok, () => false)) return edge;
  }
  throw new Error(`the platform did not become ready (${started.exitCode === null ? 'still starting after 60 s' : `exit ${started.exitCode}`}): ${stderr.trim()}`);
}

interface Load {
  requests: number;
  ok: number;
  non2xx: number;
  errors: number;
  timeouts: number;
}

function crowd(url: string, connections: number, requests: number): Load {
  const out = spawnSync(
    'node',
    [join(ROOT, 'node_modules', 'autocannon', 'autocannon.js'), '--json', '-c', String(connections), '--amount', String(requests), '-t', '20', `${url}/api/greeting`],
    { encoding: 'utf8', timeout: 120_000 },
  );
  const result = JSON.parse(out.stdout);
  return { requests: result.requests.total, ok: result['2xx'], non2xx: result.non2xx, errors: result.errors, timeouts: result.timeouts };
}

test('400 concurrent clients against the in-process platform: every answer is a whole 200', async () => {
  const edge = await startPlatform();
  const load = crowd(edge, 400, 4_000);
  expect(load).toEqual({ requests: 4_000, ok: 4_000, non2xx: 0, errors: 0, timeouts: 0 });
}, 120_000);

test('a fetch cap set very low makes the platform slow, not stuck', async () => {
  // Six requests in flight for the whole process: two per calling role (A, B, E).
  const edge = await startPlatform({ BUN_CONFIG_MAX_HTTP_REQUESTS: '6' });
  const load = crowd(edge, 100, 600);
  expect(load).toEqual({ requests: 600, ok: 600, non2xx: 0, errors: 0, timeouts: 0 });
}, 120_000);
