import { expect, test } from 'bun:test';
import { CallLimiter, limitCalls } from './call-limit';
import type { UpstreamAnswer, UpstreamCall, UpstreamTransport } from './upstream';

const upstream = { id: 'b', name: 'Service B', url: 'http://b', transport: 'http' as const };
const call = (timeoutMs = 1000): UpstreamCall => ({ upstream, headers: {}, timeoutMs });

/** A transport whose calls end when the test says, recording how many are in flight at once. */
function heldTransport() {
  const pending: (() => void)[] = [];
  let inFlight = 0;
  let most = 0;
  const seenTimeouts: number[] = [];
  const transport: UpstreamTransport = {
    describe: () => ({ spanName: 'call', attributes: {} }),
    answerAttributes: () => ({}),
    call: (c) =>
      new Promise<UpstreamAnswer>((resolve) => {
        inFlight++;
        most = Math.max(most, inFlight);
        seenTimeouts.push(c.timeoutMs);
        pending.push(() => {
          inFlight--;
          resolve({ outcome: 'whole', entries: [], timings: [], code: '200', durationMs: 1 });
        });
      }),
  };
  return { transport, pending, seenTimeouts, most: () => most };
}

test('at most `limit` calls are in flight; the others wait and go in arrival order', async () => {
  const held = heldTransport();
  const limited = limitCalls(held.transport, new CallLimiter(2));
  const order: number[] = [];
  const calls = Array.from({ length: 6 }, (_, i) => limited.call(call()).then((a) => (order.push(i), a)));
  for (let i = 0; i < 6; i++) {
    await Bun.sleep(5);
    held.pending.shift()!();
  }
  const answers = await Promise.all(calls);
  expect(answers.every((a) => a.outcome === 'whole')).toBe(true);
  expect(held.most()).toBe(2);
  expect(order).toEqual([0, 1, 2, 3, 4, 5]);
});

test('waiting counts against the deadline: the call gets what is left, and a wait that outlasts it says so', async () => {
  const held = heldTransport();
  const limited = limitCalls(held.transport, new CallLimiter(1));
  const first = limited.call(call(1000));
  const starved = limited.call(call(60));
  const late = limited.call(call(1000));
  const answer = await starved;
  expect(answer).toMatchObject({ outcome: 'failed', failure: 'timeout' });
  expect((answer as { reason: string }).reason).toBe('no answer within 60 ms (all of it spent waiting for one of 1 call slots: UPSTREAM_MAX_IN_FLIGHT)');
  await Bun.sleep(20);
  held.pending.shift()!();
  await first;
  // The starved call left the queue: the slot went to the next caller, with its remaining time.
  await Bun.sleep(5);
  expect(held.seenTimeouts).toHaveLength(2);
  expect(held.seenTimeouts[1]!).toBeLessThan(1000);
  // About 920 ms: its 1,000 less the 80 or so it waited (a busy machine stretches the wait, hence the wide lower bound).
  expect(held.seenTimeouts[1]!).toBeGreaterThan(500);
  held.pending.shift()!();
  expect((await late).outcome).toBe('whole');
});

test('a full wait queue refuses at once, naming the limit', async () => {
  const held = heldTransport();
  const limited = limitCalls(held.transport, new CallLimiter(1, 2));
  const accepted = [limited.call(call()), limited.call(call()), limited.call(call())];
  const started = performance.now();
  const refused = await limited.call(call());
  // No slot frees before the held calls are let go, below: a refusal that waited for one would not be here at all.
  expect(performance.now() - started).toBeLessThan(500);
  expect(refused).toEqual({ outcome: 'failed', failure: 'overloaded', reason: 'not called: 1 calls in flight and 2 waiting (UPSTREAM_MAX_IN_FLIGHT)', durationMs: 0 });
  for (let i = 0; i < 3; i++) {
    await Bun.sleep(1);
    held.pending.shift()!();
  }
  expect((await Promise.all(accepted)).map((a) => a.outcome)).toEqual(['whole', 'whole', 'whole']);
});
