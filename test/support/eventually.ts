/**
 * Waits for something asynchronous that a test cannot be told about directly (a socket closed by the other side, a log line
 * written after the metric it follows) by polling it, instead of a fixed sleep: a sleep that is long enough on a quiet
 * machine is outlasted by a stall on a busy one, and a stalled event loop runs overdue timers before the I/O they raced.
 */
export async function eventually(condition: () => boolean | Promise<boolean>, what: string, timeoutMs = 5_000): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  while (!(await condition())) {
    if (performance.now() > deadline) throw new Error(`not within ${timeoutMs} ms: ${what}`);
    await Bun.sleep(5);
  }
}
