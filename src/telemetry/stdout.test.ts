/**
 * writeStdout against a reader that falls behind: every line arrives once, whole and in order, through a blocking pipe (the
 * synchronous write waits) and through a non-blocking one (EAGAIN: the rest goes through process.stdout's buffer).
 */
import { describe, expect, test } from 'bun:test';
import { spawn } from 'node:child_process';
import { join } from 'node:path';

const LINES = 400;
const WRITER = `
import { writeStdout } from ${JSON.stringify(join(import.meta.dir, 'stdout.ts'))};
for (let i = 0; i < ${LINES}; i++) writeStdout(JSON.stringify({ i, pad: 'x'.repeat(3000 + (i % 11) * 1500) }));
`;
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

async function linesThrough(mode: 'blocking' | 'nonblocking'): Promise<string[]> {
  const child = spawn('python3', ['-c', LATE_READER, mode, process.execPath, '-e', WRITER], { stdio: ['ignore', 'pipe', 'inherit'] });
  const chunks: Buffer[] = [];
  child.stdout.on('data', (c: Buffer) => chunks.push(c));
  const code = await new Promise<number | null>((resolve) => child.once('close', resolve));
  expect(code).toBe(0);
  return Buffer.concat(chunks).toString('utf8').split('\n');
}

describe('writeStdout', () => {
  for (const mode of ['blocking', 'nonblocking'] as const)
    test(`a ${mode} pipe that is read late gets every line once, whole and in order`, async () => {
      const lines = await linesThrough(mode);
      expect(lines.pop()).toBe('');
      expect(lines.length).toBe(LINES);
      lines.forEach((line, i) => expect((JSON.parse(line) as { i: number }).i).toBe(i));
    });
});
