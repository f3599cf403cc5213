/**
 * Time from exec to the first 200 on `/api/health` (the liveness and startup probe: serving, whatever its data plane is doing):
 * spawn one process on a free port, ask in a tight loop, stop the clock on the first 200, and read its RSS at that moment.
 * The poll is a plain HTTP/1.1 request on a fresh socket every ~1 ms, so the measurement adds at most about a millisecond to
 * what it measures.
 */
import { spawn } from 'node:child_process';
import { connect } from 'node:net';
import { freePort } from '../src/platform/processes';
import { memory } from './proc-stats';

export const STARTUP_PROBE = '/api/health';

export interface StartupSample {
  /** Milliseconds from spawn() to the first 200, one per run. */
  readyMs: number[];
  medianMs: number;
  maxMs: number;
  /** RSS at the first 200, median over the runs. */
  rssMb: number;
}

/** One HTTP/1.1 GET with a fresh connection; resolves with the status, or 0 when nothing listens yet. */
function probeStatus(port: number): Promise<number> {
  return new Promise((resolve) => {
    const socket = connect({ host: '127.0.0.1', port });
    let data = '';
    const done = (status: number) => {
      socket.destroy();
      resolve(status);
    };
    socket.once('error', () => done(0));
    socket.once('connect', () => socket.write(`GET ${STARTUP_PROBE} HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nConnection: close\r\n\r\n`));
    socket.on('data', (chunk: Buffer) => {
      data += chunk.toString();
      const match = /^HTTP\/1\.1 (\d{3})/.exec(data);
      if (match) done(Number(match[1]));
    });
    socket.once('close', () => done(0));
  });
}

export interface StartupRun {
  ms: number;
  rssMb: number;
}

/** One exec to the first 200 of `command` with `env`, then SIGKILL. */
export async function startOnce(command: string[], env: Record<string, string>, timeoutMs = 15_000): Promise<StartupRun> {
  const port = await freePort();
  const [cmd, ...args] = command;
  const started = performance.now();
  const child = spawn(cmd!, args, { env: { ...process.env, ...env, PORT: String(port), DRAIN_DELAY_MS: '0' }, stdio: 'ignore' });
  const exited = new Promise((r) => child.once('exit', r));
  let exitedEarly = false;
  void exited.then(() => (exitedEarly = true));
  try {
    while (!exitedEarly && performance.now() - started < timeoutMs) {
      if ((await probeStatus(port)) === 200) {
        const ms = performance.now() - started;
        return { ms, rssMb: memory(child.pid!)?.rssMb ?? NaN };
      }
      await Bun.sleep(1);
    }
    throw new Error(`${command.join(' ')} (${JSON.stringify(env)}) did not answer ${STARTUP_PROBE} within ${timeoutMs} ms${exitedEarly ? ': it exited' : ''}`);
  } finally {
    child.kill('SIGKILL');
    await exited;
  }
}

const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor((values.length - 1) / 2)]!;
const round1 = (v: number) => Math.round(v * 10) / 10;

/** Several runs of one command, summed up. */
export function sampleOf(runs: StartupRun[]): StartupSample {
  const readyMs = runs.map((r) => round1(r.ms));
  return { readyMs, medianMs: median(readyMs), maxMs: Math.max(...readyMs), rssMb: round1(median(runs.map((r) => r.rssMb))) };
}
