import { expect, test } from 'bun:test';
import { roleUnderTest } from '../../test/support/role-under-test';
import { createLogger, requestContext } from './log';

const parsed = (lines: string[]) => lines.map((l) => JSON.parse(l) as Record<string, unknown>);

test('a warning repeated with the same fields is written once per window, then summed up with its count', async () => {
  const lines: string[] = [];
  const log = createLogger('a', 'info', { write: (l) => lines.push(l), repeatWindowMs: 80 });
  for (let i = 0; i < 500; i++) requestContext.run({ requestId: `r${i}` }, () => log.warn('upstreams failed', { failed: ['Service B'] }));
  log.warn('upstreams failed', { failed: ['Service C'] });
  log.info('serving');
  log.info('serving');
  expect(parsed(lines).map((l) => [l.msg, l.failed, l.requestId])).toEqual([
    ['upstreams failed', ['Service B'], 'r0'],
    ['upstreams failed', ['Service C'], undefined],
    ['serving', undefined, undefined],
    ['serving', undefined, undefined],
  ]);
  await Bun.sleep(150);
  const summary = parsed(lines).slice(4);
  expect(summary).toEqual([expect.objectContaining({ level: 'warn', msg: 'upstreams failed', failed: ['Service B'], repeated: 499, windowSeconds: 0.08 })]);
  // A new window: the next occurrence is written again.
  log.warn('upstreams failed', { failed: ['Service B'] });
  expect(parsed(lines)).toHaveLength(6);
});

test('a dead upstream under load writes a handful of lines, not one per request', async () => {
  const lines: string[] = [];
  const a = roleUnderTest('a', { SERVICE_B_URL: 'http://127.0.0.1:1', SERVICE_C_URL: 'http://127.0.0.1:1' }, { logLines: lines });
  await Promise.all(Array.from({ length: 300 }, () => a.get('/api/greeting')));
  expect(lines.length).toBeLessThanOrEqual(2);
  expect(parsed(lines)[0]).toMatchObject({ level: 'warn', msg: 'upstreams failed', failed: ['Service B', 'Service C'] });
});
