import { describe, expect, test } from 'bun:test';
import { randomUUID } from 'node:crypto';
import { loadConfig } from '../src/config/settings';
import type { PlatformConfig } from '../src/config/schema';
import { addCounts, AnswerChecker, expectedChain, type ExpectedGreeting } from './correctness';

const { config } = loadConfig();
const expected = expectedChain(config);

/** A right answer, made now: fresh ids and times. */
function answer(chain: ExpectedGreeting[] = expected, now = Date.now()): Record<string, unknown>[] {
  return chain.map((e) => ({ id: randomUUID(), service: e.service, message: e.message, created: new Date(now).toISOString(), hostname: 'box', version: e.version }));
}

function check(checker: AnswerChecker, body: unknown, status = 200): boolean {
  const now = Date.now();
  return checker.check(status, typeof body === 'string' ? body : JSON.stringify(body), now - 5, now);
}

describe('the expected answer', () => {
  test('is derived from the config as the edge builds it: upstreams first, recursively, own greeting last', () => {
    expect(expected.map((e) => e.role)).toEqual(['d', 'g', 'h', 'e', 'b', 'c', 'a']);
    expect(expected[0]).toEqual({ role: 'd', service: 'Service D', message: config.services.d!.greeting, version: 'v1' });
  });

  test('follows the config: another topology and version give another expectation', () => {
    const changed = structuredClone(config) as PlatformConfig;
    changed.services.a!.upstreams = ['c', 'b'];
    changed.services.c!.version = 'v2';
    expect(expectedChain(changed).map((e) => `${e.role}:${e.version}`)).toEqual(['c:v2', 'd:v1', 'g:v1', 'h:v1', 'e:v1', 'b:v1', 'a:v1']);
  });
});

describe('AnswerChecker', () => {
  test('an exact answer counts as exact, and every role greeting in it as answered', () => {
    const checker = new AnswerChecker(expected);
    expect(check(checker, answer())).toBe(true);
    expect(check(checker, answer())).toBe(true);
    const counts = checker.result();
    expect(counts).toMatchObject({ checked: 2, exact: 2, wrong: 0, reasons: {} });
    expect(counts.greetingsByRole).toEqual({ d: 2, g: 2, h: 2, e: 2, b: 2, c: 2, a: 2 });
    expect(Object.keys(counts.lastExactIds!)).toEqual(['d', 'g', 'h', 'e', 'b', 'c', 'a']);
  });

  const wrongs: [string, () => unknown, string, number?][] = [
    ['six greetings', () => answer().slice(1), '6 entries, expected 7'],
    ['the right greetings in the wrong order', () => { const a = answer(); [a[0], a[1]] = [a[1]!, a[0]!]; return a; }, "entry 1 is 'Service G', expected 'Service D'"],
    ['an id that is not a uuid v4', () => { const a = answer(); a[2]!.id = 'b7d3-not-a-uuid'; return a; }, 'h: id is not a uuid v4'],
    ['a uuid of another version', () => { const a = answer(); a[2]!.id = '0f8fad5b-d9cb-169f-a165-70867728950e'; return a; }, 'h: id is not a uuid v4'],
    ['a missing version (the original platform answers five fields)', () => { const a = answer(); delete a[6]!.version; return a; }, 'a: version missing, expected \'v1\''],
    ['a version other than the configured one', () => { const a = answer(); a[5]!.version = 'v2'; return a; }, "c: version 'v2', expected 'v1'"],
    ['a message other than the configured greeting', () => { const a = answer(); a[3]!.message = 'Hi'; return a; }, 'e: message is not the configured greeting'],
    ['an empty hostname', () => { const a = answer(); a[4]!.hostname = ''; return a; }, 'b: hostname is not a non-empty string'],
    ['a created that is no ISO time', () => { const a = answer(); a[0]!.created = 'yesterday'; return a; }, 'd: created is not an ISO 8601 time'],
    ['a created long before the request (a cached answer)', () => answer(expected, Date.now() - 60_000), 'd: created outside the request\'s time (a stale answer?)'],
    ['an error entry in place of a subtree, with status 200', () => { const a: unknown[] = answer(); a[1] = { service: 'Service E', error: 'timeout', upstream: 'http://e' }; return a; }, "entry 2 is 'Service E', expected 'Service G'"],
    ['not JSON', () => '<html>busy</html>', 'body is not JSON'],
    ['a 502 with the partial answer', () => answer(), 'status 502', 502],
  ];
  for (const [what, body, reason, status] of wrongs) {
    test(`wrong: ${what}`, () => {
      const checker = new AnswerChecker(expected);
      expect(check(checker, body(), status ?? 200)).toBe(false);
      expect(checker.result()).toMatchObject({ checked: 1, exact: 0, wrong: 1, reasons: { [reason]: 1 } });
      expect(checker.result().examples).toHaveLength(1);
    });
  }

  test('the same answer twice is a replay: the second is wrong', () => {
    const checker = new AnswerChecker(expected);
    const body = answer();
    expect(check(checker, body)).toBe(true);
    expect(check(checker, body)).toBe(false);
    expect(checker.result().reasons).toEqual({ 'a greeting id seen before (a replayed answer?)': 1 });
  });

  test('a partial answer still counts the greetings it carries (those roles stored them)', () => {
    const checker = new AnswerChecker(expected);
    const partial: unknown[] = answer();
    partial.splice(1, 3, { service: 'Service E', error: 'timeout', upstream: 'http://e' });
    check(checker, partial, 502);
    expect(checker.result().greetingsByRole).toEqual({ d: 1, g: 0, h: 0, e: 0, b: 1, c: 1, a: 1 });
  });

  test('the clock skew allowed is an option', () => {
    const strict = new AnswerChecker(expected, { clockSkewMs: 0 });
    const lenient = new AnswerChecker(expected, { clockSkewMs: 120_000 });
    const body = JSON.stringify(answer(expected, Date.now() - 60_000));
    expect([check(strict, body), check(lenient, body)]).toEqual([false, true]);
  });

  test('counts of several runs add up', () => {
    const a = new AnswerChecker(expected);
    const b = new AnswerChecker(expected);
    check(a, answer());
    check(b, answer().slice(2));
    check(b, answer());
    const total = addCounts([a.result(), undefined, b.result()]);
    expect(total).toMatchObject({ checked: 3, exact: 2, wrong: 1, reasons: { '5 entries, expected 7': 1 } });
    expect(total.greetingsByRole.a).toBe(3);
    expect(total.greetingsByRole.d).toBe(2);
  });
});
