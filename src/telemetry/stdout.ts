/**
 * A line to stdout, written before this returns. Bun's console.log writes to the file descriptor itself, synchronously,
 * and waits out a pipe that is full, blocking or not, as Node's own process.stdout does on Linux for files, terminals and
 * pipes (a reader that stops reading holds the writer up, as it would a Go service's log): no line is left in a buffer that a
 * crash would lose, and lines keep their order. It is also the cheapest way there: Bun builds `process.stdout` on first use
 * (2-3 ms of a role's start), and `node:fs`'s `writeSync` loaded node:fs into every start (about 1 ms, compiled). A lone
 * string is printed as it is: console.log reads format directives (`%s`, which a JSON value may hold) only when more
 * arguments follow.
 */
export function writeStdout(line: string): void {
  console.log(line);
}
