/**
 * Time from exec to the first readiness 200: spawn one role on a free port, ask `/api/ready` in a tight loop, stop the clock on
 * the first 200. The poll is a plain HTTP/1.1 request on a fresh socket every ~1 ms, so the measurement adds at most about a
 * millisecond to what it measures.
 */
import { spawn } from 'node:child_process';
import { connect } from 'node:net';
import { freePort } from '../src/platform/processes';

export interface StartupSample {
  role: string;
  /** Milliseconds from spawn() to the first readiness 200, one per run. */
  readyMs: number[];
  medianMs: number;
  maxMs: number;
}

/** One HTTP/1.1 GET with a fresh connection; resolves with the status, or 0 when nothing listens yet. */
function readyStatus(port: number): Promise<number> {
  return new Promise((resolve) => {
    const socket = connect({ host: '127.0.0.1', port });
    let data = '';
    const done = (status: number) => {
      socket.destroy();
      resolve(status);
    };
    socket.once('error', () => done(0));
    socket.once('connect', () => socket.write(`GET /api/ready HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nConnection: close\r\n\r\n`));
    socket.on('data', (chunk: Buffer) => {
      data += chunk.toString();
      const match = /^HTTP\/1\.1 (\d{3})/.exec(data);
      if (match) done(Number(match[1]));
    });
    socket.once('close', () => done(0));
  });
}

async function once(command: string[], role: string, env: Record<string, string>, timeoutMs: number): Promise<number> {
  const port = await freePort();
  const [cmd, ...args] = command;
  const started = performance.now();
  const child = spawn(cmd!, args, {
    env: { ...process.env, ...env, ROLE: role, PORT: String(port), DRAIN_DELAY_MS: '0' },
    stdio: 'ignore',
  });
  const exited = new Promise((r) => child.once('exit', r));
  let exitedEarly = false;
  void exited.then(() => (exitedEarly = true));
  try {
    while (!exitedEarly && performance.now() - started < timeoutMs) {
      if ((await readyStatus(port)) === 200) return performance.now() - started;
      await Bun.sleep(1);
    }
    throw new Error(`role ${role} (${command.join(' ')}) was not ready within ${timeoutMs} ms${exitedEarly ? ': it exited' : ''}`);
  } finally {
    child.kill('SIGKILL');
    await exited;
  }
}

export async function measureStartup(
  command: string[],
  roles: string[],
  runs: number,
  env: Record<string, string> = {},
  timeoutMs = 15_000,
): Promise<StartupSample[]> {
  const samples: StartupSample[] = [];
  for (const role of roles) {
    const readyMs: number[] = [];
    for (let i = 0; i < runs; i++) readyMs.push(Math.round((await once(command, role, env, timeoutMs)) * 10) / 10);
    const sorted = [...readyMs].sort((a, b) => a - b);
    samples.push({ role, readyMs, medianMs: sorted[Math.floor((sorted.length - 1) / 2)]!, maxMs: sorted[sorted.length - 1]! });
  }
  return samples;
}
