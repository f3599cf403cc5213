import { afterEach, describe, expect, test } from 'bun:test';
import { MemoryStore } from '../backends/memory-store';
import { makeGreeting } from '../greeting';
import { roleUnderTest } from '../../test/support/role-under-test';
import { upstreamServer } from '../../test/support/upstream-server';
import { inMemoryStore } from '../../test/support/stored';

const servers: ReturnType<typeof upstreamServer>[] = [];
const serve = (b: Parameters<typeof upstreamServer>[0]) => {
  const s = upstreamServer(b);
  servers.push(s);
  return s;
};
afterEach(() => {
  for (const s of servers.splice(0)) s.stop();
});

const greetings = (...names: string[]) => names.map((n) => makeGreeting(`Service ${n}`, `hi from ${n}`));

describe('GET /api/greeting', () => {
  test('upstream greetings come in config order, then our own', async () => {
    const b = serve({ body: greetings('D', 'E', 'B') });
    const c = serve({ body: greetings('C') });
    const a = roleUnderTest('a', { SERVICE_B_URL: b.url, SERVICE_C_URL: c.url });
    const response = await a.get('/api/greeting');
    expect(response.status).toBe(200);
    const body = (await response.json()) as { service: string }[];
    expect(body.map((g) => g.service)).toEqual(['Service D', 'Service E', 'Service B', 'Service C', 'Service A']);
  });

  test('our greeting has a uuid v4, a UTC ISO time, the hostname and the configured message', async () => {
    const c = roleUnderTest('c', {}, { backends: { store: new MemoryStore() } });
    const [g] = (await (await c.get('/api/greeting')).json()) as Record<string, string>[];
    expect(g!.id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(g!.created).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
    expect(g!.message).toBe('Konnichiwa (こんにちは), from Service C!');
    expect(g!.hostname).toBe((await import('node:os')).hostname());
    // The original's five fields, then which version answered (clients that ignore unknown keys read it as the original's).
    expect(Object.keys(g!).sort()).toEqual(['created', 'hostname', 'id', 'message', 'service', 'version']);
    expect(g!.version).toBe('v1');
  });

  test('upstreams are called in parallel: the answer takes the slowest call, not the sum', async () => {
    const b = serve({ body: greetings('B'), delayMs: 800 });
    const c = serve({ body: greetings('C'), delayMs: 800 });
    const a = roleUnderTest('a', { SERVICE_B_URL: b.url, SERVICE_C_URL: c.url });
    const started = performance.now();
    expect((await a.get('/api/greeting')).status).toBe(200);
    // Sequential calls would take at least 1,600 ms; the margin is for a busy machine.
    expect(performance.now() - started).toBeLessThan(1_400);
  });

  test('a failed upstream is one error entry in its place, the rest arrives, the answer is 502', async () => {
    const b = serve({ status: 503, body: { error: 'store down' } });
    const c = serve({ body: greetings('C') });
    const a = roleUnderTest('a', { SERVICE_B_URL: b.url, SERVICE_C_URL: c.url });
    const response = await a.get('/api/greeting');
    expect(response.status).toBe(502);
    const body = (await response.json()) as Record<string, string>[];
    expect(body[0]).toEqual({ service: 'Service B', error: 'answered 503: store down', upstream: b.url });
    expect(body.slice(1).map((g) => g.service)).toEqual(['Service C', 'Service A']);
  });

  test('an unreachable upstream and a timed-out one are named with why', async () => {
    const slow = serve({ body: greetings('C'), delayMs: 1000 });
    const a = roleUnderTest('a', { SERVICE_B_URL: 'http://127.0.0.1:1', SERVICE_C_URL: slow.url, UPSTREAM_TIMEOUT_MS: '150' });
    const started = performance.now();
    const response = await a.get('/api/greeting');
    expect(performance.now() - started).toBeLessThan(900);
    expect(response.status).toBe(502);
    const [b, c, own] = (await response.json()) as Record<string, string>[];
    expect(b!.service).toBe('Service B');
    expect(b!.error).toMatch(/^request failed: /);
    expect(c).toEqual({ service: 'Service C', error: 'no answer within 150 ms', upstream: slow.url });
    expect(own!.service).toBe('Service A');
  });

  test("an upstream's 502 partial array passes through and the 502 reaches the caller", async () => {
    const partial = [...greetings('D'), { service: 'Service E', error: 'answered 503', upstream: 'http://e' }, ...greetings('B')];
    const b = serve({ status: 502, body: partial });
    const c = serve({ body: greetings('C') });
    const a = roleUnderTest('a', { SERVICE_B_URL: b.url, SERVICE_C_URL: c.url });
    const response = await a.get('/api/greeting');
    expect(response.status).toBe(502);
    const body = (await response.json()) as Record<string, string>[];
    expect(body.slice(0, 3)).toEqual(JSON.parse(JSON.stringify(partial)));
    expect(body.map((e) => e.service)).toEqual(['Service D', 'Service E', 'Service B', 'Service C', 'Service A']);
  });

  test('a 200 with something other than a greeting array is a failed subtree', async () => {
    const b = serve({ rawBody: 'upstream connect error or disconnect/reset before headers' });
    const c = serve({ body: [{ not: 'a greeting' }] });
    const a = roleUnderTest('a', { SERVICE_B_URL: b.url, SERVICE_C_URL: c.url });
    const response = await a.get('/api/greeting');
    expect(response.status).toBe(502);
    const body = (await response.json()) as Record<string, string>[];
    expect(body.map((e) => e.error)).toEqual([
      'answered 200 with a body that is not a greeting array',
      'answered 200 with a body that is not a greeting array',
      undefined,
    ]);
  });

  test('when the upstream comes back, answers are whole again', async () => {
    const b = serve({ status: 500, body: { error: 'boom' } });
    const c = serve({ body: greetings('C') });
    const a = roleUnderTest('a', { SERVICE_B_URL: b.url, SERVICE_C_URL: c.url });
    expect((await a.get('/api/greeting')).status).toBe(502);
    b.set({ body: greetings('B') });
    expect((await a.get('/api/greeting')).status).toBe(200);
  });

  test('the seven tracing headers are forwarded to every upstream, other headers are not', async () => {
    const seen: Record<string, string>[] = [];
    const echo = { body: (h: Record<string, string>) => (seen.push(h), []) };
    const b = serve(echo as never);
    const c = serve(echo as never);
    const a = roleUnderTest('a', { SERVICE_B_URL: b.url, SERVICE_C_URL: c.url });
    const tracing = {
      'x-request-id': 'req-1',
      'x-b3-traceid': '80f198ee56343ba864fe8b2a57d3eff7',
      'x-b3-spanid': 'e457b5a2e4d86bd1',
      'x-b3-parentspanid': '05e3ac9a4f6e3b90',
      'x-b3-sampled': '1',
      'x-b3-flags': '0',
      'x-ot-span-context': 'ctx',
    };
    await a.get('/api/greeting', { headers: { ...tracing, cookie: 'secret=1', authorization: 'Bearer x' } });
    expect(seen).toHaveLength(2);
    for (const headers of seen) {
      for (const [name, value] of Object.entries(tracing)) expect(headers[name]).toBe(value);
      expect(headers.cookie).toBeUndefined();
      expect(headers.authorization).toBeUndefined();
    }
  });

  test('concurrent requests do not mix their answers', async () => {
    const b = serve({ body: greetings('D', 'B'), delayMs: 20 });
    const c = serve({ body: greetings('C') });
    const a = roleUnderTest('a', { SERVICE_B_URL: b.url, SERVICE_C_URL: c.url });
    const answers = await Promise.all(Array.from({ length: 50 }, () => a.get('/api/greeting').then((r) => r.json())));
    const ownIds = new Set<string>();
    for (const body of answers as { service: string; id: string }[][]) {
      expect(body.map((g) => g.service)).toEqual(['Service D', 'Service B', 'Service C', 'Service A']);
      ownIds.add(body[3]!.id);
    }
    expect(ownIds.size).toBe(50);
  });

  test('a storing role stores its greeting once per request', async () => {
    const store = new MemoryStore();
    const c = roleUnderTest('c', {}, { backends: { store } });
    const [g] = (await (await c.get('/api/greeting')).json()) as { id: string }[];
    const stored = inMemoryStore(store, { database: 'service-c', collection: 'greetings' });
    expect(stored.map((s) => s.id)).toEqual([g!.id]);
  });

  test('a store that fails makes the role answer 503 with the reason', async () => {
    const store = new MemoryStore();
    store.insert = async () => {
      throw new Error('connection refused');
    };
    const c = roleUnderTest('c', {}, { backends: { store } });
    const response = await c.get('/api/greeting');
    expect(response.status).toBe(503);
    expect(await response.json()).toEqual({ service: 'Service C', error: 'cannot store greeting in service-c.greetings: connection refused' });
  });

  test('chaos: an error rate of 1 fails every greeting but not the probes', async () => {
    const c = roleUnderTest('c', { CHAOS_ERROR_RATE: '1' }, { backends: { store: new MemoryStore() } });
    const response = await c.get('/api/greeting');
    expect(response.status).toBe(500);
    expect(((await response.json()) as { error: string }).error).toMatch(/^chaos: injected error/);
    expect((await c.get('/api/health')).status).toBe(200);
  });

  test('chaos: added latency delays the answer', async () => {
    const c = roleUnderTest('c', { CHAOS_LATENCY_MS: '200' }, { backends: { store: new MemoryStore() } });
    const started = performance.now();
    expect((await c.get('/api/greeting')).status).toBe(200);
    expect(performance.now() - started).toBeGreaterThanOrEqual(195);
  });

  test('Server-Timing carries every hop of the subtree', async () => {
    const b = serve({ body: greetings('B') });
    const c = serve({ body: greetings('C') });
    const a = roleUnderTest('a', { SERVICE_B_URL: b.url, SERVICE_C_URL: c.url });
    const timing = (await a.get('/api/greeting')).headers.get('server-timing');
    expect(timing).toMatch(/^a;dur=\d+\.\d+;desc="Service A"$/);
  });
});

test('a service name that cannot stand in a header still answers, with a header-safe Server-Timing', async () => {
  const c = roleUnderTest('c', { SERVICE_NAME: 'Sërvice "C"' });
  const response = await c.get('/api/greeting');
  expect(response.status).toBe(200);
  expect(((await response.json()) as { service: string }[])[0]!.service).toBe('Sërvice "C"');
  expect(response.headers.get('server-timing')).toMatch(/^c;dur=[\d.]+;desc="S\?rvice \?C\?"$/);
});
