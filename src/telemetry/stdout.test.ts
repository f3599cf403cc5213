/**
 * writeStdout against a reader that falls behind: every line arrives once, whole and in order, through a blocking pipe and
 * through a non-blocking one (the write waits for room in both), a line with format directives as it is, and a line
 * written just before the process is killed is not lost.
 */
import { describe, expect, test } from 'bun:test';
import { spawn } from 'node:child_process';
import { join } from 'node:path';

const LINES = 400;
const writer = (body: string) => `import { writeStdout } from ${JSON.stringify(join(import.meta.dir, 'stdout.ts'))};\n${body}`;
const WRITER = writer(`for (let i = 0; i < ${LINES}; i++) writeStdout(JSON.stringify({ i, pad: 'x'.repeat(3000 + (i % 11) * 1500) }));`);
// Runs the command with its stdout on a pipe (non-blocking, or left blocking) that nobody reads for 300 ms: it fills long
// before the writer is done (64 KB), so the writes must wait, be cut short or be refused. Then relays all of it.
const LATE_READER = `import fcntl, os, subprocess, sys, time
r, w = os.pipe()
if sys.argv[1] == 'nonblocking': fcntl.fcntl(w, fcntl.F_SETFL, fcntl.fcntl(w, fcntl.F_GETFL) | os.O_NONBLOCK)
child = subprocess.Popen(sys.argv[2:], stdout=w)
os.close(w)
time.sleep(0.3)
while True:
    data = os.read(r, 65536)
    if not data: break
    sys.stdout.buffer.write(data)
sys.exit(child.wait())`;

async function through(mode: 'blocking' | 'nonblocking', code = WRITER): Promise<{ exit: number | null; text: string }> {
  const child = spawn('python3', ['-c', LATE_READER, mode, process.execPath, '-e', code], { stdio: ['ignore', 'pipe', 'inherit'] });
  const chunks: Buffer[] = [];
  child.stdout.on('data', (c: Buffer) => chunks.push(c));
  const exit = await new Promise<number | null>((resolve) => child.once('close', resolve));
  return { exit, text: Buffer.concat(chunks).toString('utf8') };
}

async function linesThrough(mode: 'blocking' | 'nonblocking'): Promise<string[]> {
  const { exit, text } = await through(mode);
  expect(exit).toBe(0);
  return text.split('\n');
}

describe('writeStdout', () => {
  for (const mode of ['blocking', 'nonblocking'] as const)
    test(`a ${mode} pipe that is read late gets every line once, whole and in order`, async () => {
      const lines = await linesThrough(mode);
      expect(lines.pop()).toBe('');
      expect(lines.length).toBe(LINES);
      lines.forEach((line, i) => expect((JSON.parse(line) as { i: number }).i).toBe(i));
    });

  test('a line is written as it is, format directives included', async () => {
    const line = JSON.stringify({ msg: '%s %d %i %f %j %o %O %c %% done' });
    expect(await through('blocking', writer(`writeStdout(${JSON.stringify(line)});`))).toEqual({ exit: 0, text: `${line}\n` });
  });

  test('a 200 KB line written just before the process is killed arrives whole through a full non-blocking pipe', async () => {
    const { exit, text } = await through('nonblocking', writer(`writeStdout('y'.repeat(200_000)); process.kill(process.pid, 'SIGKILL');`));
    expect(exit).not.toBe(0);
    expect(text).toBe(`${'y'.repeat(200_000)}\n`);
  });
});
