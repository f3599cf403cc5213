/**
 * A line to stdout, written synchronously to the file descriptor while that works. Bun builds `process.stdout` on first use,
 * and building it cost a role 2-3 ms of its start (compiled, measured with `npm run bench`'s start-up probe); a synchronous
 * write also never leaves lines in a buffer that a crash would lose, and is what Node's own process.stdout does on Linux for
 * files, terminals and pipes (a reader that stops reading holds the writer up, as it would a Go service's log). When the
 * descriptor refuses (a non-blocking pipe that is full answers EAGAIN), the rest of that line and every later one go through
 * `process.stdout`, which buffers, so the order of lines is kept and nothing is written twice.
 */
import { writeSync } from 'node:fs';

let buffered = false;

export function writeStdout(line: string): void {
  if (buffered) return void process.stdout.write(line + '\n');
  const bytes = Buffer.from(line + '\n');
  let written = 0;
  try {
    while (written < bytes.length) written += writeSync(1, bytes, written);
  } catch {
    buffered = true;
    process.stdout.write(bytes.subarray(written));
  }
}
