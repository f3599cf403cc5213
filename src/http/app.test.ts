import { afterEach, describe, expect, test } from 'bun:test';
import { roleUnderTest } from '../../test/support/role-under-test';
import { upstreamServer } from '../../test/support/upstream-server';

const servers: ReturnType<typeof upstreamServer>[] = [];
afterEach(() => {
  for (const s of servers.splice(0)) s.stop();
});

function edgeWithCountingUpstreams(env: Record<string, string> = {}) {
  const b = upstreamServer({ body: [] });
  const c = upstreamServer({ body: [] });
  servers.push(b, c);
  return { a: roleUnderTest('a', { SERVICE_B_URL: b.url, SERVICE_C_URL: c.url, ...env }), b, c };
}

describe('probes and errors (every role)', () => {
  test('liveness is {"alive": true}', async () => {
    const d = roleUnderTest('d');
    const response = await d.get('/api/health');
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ alive: true });
  });

  test('readiness is false while starting and draining, true while serving', async () => {
    const h = roleUnderTest('h');
    h.lifecycle.phase = 'starting';
    expect((await h.get('/api/ready')).status).toBe(503);
    h.lifecycle.phase = 'serving';
    expect(await (await h.get('/api/ready')).json()).toEqual({ ready: true, phase: 'serving', dependencies: { 'store:memory': true } });
    h.lifecycle.phase = 'draining';
    const draining = await h.get('/api/ready');
    expect(draining.status).toBe(503);
    expect(((await draining.json()) as { phase: string }).phase).toBe('draining');
    expect((await h.get('/api/health')).status).toBe(200);
  });

  test('readiness follows its dependencies', async () => {
    let up = false;
    const store = { kind: 'memory', isReady: () => up, notReadyReason: () => (up ? undefined : 'MongoDB could not connect: refused') } as never;
    const c = roleUnderTest('c', {}, { backends: { store } });
    expect(await (await c.get('/api/ready')).json()).toEqual({
      ready: false,
      phase: 'serving',
      dependencies: { 'store:memory': false },
      reasons: { 'store:memory': 'MongoDB could not connect: refused' },
    });
    up = true;
    expect((await c.get('/api/ready')).status).toBe(200);
  });

  test('unknown route is a JSON 404, wrong method a JSON 405 with Allow', async () => {
    const g = roleUnderTest('g');
    const missing = await g.get('/api/nope');
    expect(missing.status).toBe(404);
    expect(await missing.json()).toEqual({ error: 'no route for GET /api/nope' });
    const wrong = await g.get('/api/greeting', { method: 'DELETE' });
    expect(wrong.status).toBe(405);
    expect(wrong.headers.get('allow')).toBe('GET, HEAD');
    expect(await wrong.json()).toEqual({ error: 'method DELETE is not allowed on /api/greeting' });
  });

  test('edge-only routes do not exist on other roles', async () => {
    expect((await roleUnderTest('b').get('/api/status/200')).status).toBe(404);
    expect((await roleUnderTest('b').get('/api/request-echo')).status).toBe(404);
  });

  test('metrics are Prometheus text, labelled by route template and never by raw URL', async () => {
    const { a } = edgeWithCountingUpstreams();
    await a.get('/api/status/418');
    await a.get('/api/status/503');
    await a.get('/api/greeting');
    await Bun.sleep(0);
    const response = await a.get('/api/metrics');
    expect(response.headers.get('content-type')).toStartWith('text/plain');
    const text = await response.text();
    expect(text).toContain('http_server_requests_total{role="a",method="GET",route="/api/status/:code",status="418",app="service-a",version="v1"} 1');
    expect(text).toContain('route="/api/greeting",status="200"');
    expect(text).not.toContain('route="/api/status/418"');
    expect(text).toContain('upstream_request_duration_seconds_count{app="service-a",version="v1",role="a",upstream="b",outcome="200"} 1');
    expect(text).toMatch(/greeting_mesh_build_info\{role="a",service_version="v1",runtime="bun",runtime_version="1\.\d+\.\d+"/);
  });

  test('every answer carries an x-request-id, the incoming one when given', async () => {
    const g = roleUnderTest('g');
    expect((await g.get('/api/health', { headers: { 'x-request-id': 'abc' } })).headers.get('x-request-id')).toBe('abc');
    expect((await g.get('/api/health')).headers.get('x-request-id')).toMatch(/^[0-9a-f-]{36}$/);
  });

  test('log lines written while handling a request carry its request id', async () => {
    const lines: string[] = [];
    const c = roleUnderTest('c', { LOG_LEVEL: 'debug' }, { logLines: lines, backends: { store: { kind: 'memory', isReady: () => true, insert: async () => { throw new Error('down'); } } as never } });
    await c.get('/api/greeting', { headers: { 'x-request-id': 'req-42' } });
    const parsed = lines.map((l) => JSON.parse(l) as Record<string, string>);
    expect(parsed.length).toBeGreaterThan(0);
    for (const line of parsed) {
      expect(Object.keys(line)).toEqual(expect.arrayContaining(['time', 'level', 'msg', 'role']));
      expect(line.requestId).toBe('req-42');
    }
  });
});

describe('edge role', () => {
  test('a CORS preflight is answered without running the fan-out', async () => {
    const { a, b, c } = edgeWithCountingUpstreams();
    const response = await a.get('/api/greeting', {
      method: 'OPTIONS',
      headers: { origin: 'https://ui.example', 'access-control-request-method': 'GET', 'access-control-request-headers': 'content-type' },
    });
    expect(response.status).toBe(204);
    expect(response.headers.get('access-control-allow-origin')).toBe('*');
    expect(response.headers.get('access-control-allow-headers')).toContain('content-type');
    expect(response.headers.get('access-control-allow-credentials')).toBeNull();
    expect(b.calls + c.calls).toBe(0);
  });

  test('listed origins only, with credentials when configured', async () => {
    const { a } = edgeWithCountingUpstreams({ ALLOWED_ORIGINS: 'https://ui.example,https://other.example' });
    const allowed = await a.get('/api/greeting', { headers: { origin: 'https://other.example' } });
    expect(allowed.headers.get('access-control-allow-origin')).toBe('https://other.example');
    const refused = await a.get('/api/greeting', { headers: { origin: 'https://evil.example' } });
    expect(refused.headers.get('access-control-allow-origin')).toBeNull();
  });

  test('CORS is for requests that carry an Origin: the others get `Vary: Origin` and no CORS headers, as rs/cors answers', async () => {
    const { a } = edgeWithCountingUpstreams();
    const plain = await a.get('/api/greeting');
    expect(plain.status).toBe(200);
    expect(plain.headers.get('vary')).toBe('Origin');
    for (const name of ['access-control-allow-origin', 'access-control-allow-methods', 'access-control-expose-headers']) expect(plain.headers.get(name)).toBeNull();
    const browser = await a.get('/api/greeting', { headers: { origin: 'https://ui.example' } });
    expect(browser.headers.get('access-control-allow-origin')).toBe('*');
    expect(browser.headers.get('access-control-allow-methods')).toContain('GET');
    // The same route table either way: a 404 and a 405 are the same answers with or without an Origin.
    for (const headers of <Record<string, string>[]>[{}, { origin: 'https://ui.example' }]) {
      expect((await a.get('/api/nothing', { headers })).status).toBe(404);
      expect((await a.get('/api/greeting', { method: 'DELETE', headers })).status).toBe(405);
    }
  });

  test('the answer exposes Server-Timing to the browser', async () => {
    const { a } = edgeWithCountingUpstreams();
    const response = await a.get('/api/greeting', { headers: { origin: 'https://ui.example' } });
    expect(response.headers.get('access-control-expose-headers')).toContain('server-timing');
  });

  test('status echoes 100-599 and refuses anything else with a JSON reason', async () => {
    const { a } = edgeWithCountingUpstreams();
    expect((await a.get('/api/status/418')).status).toBe(418);
    expect((await a.get('/api/status/204')).status).toBe(204);
    expect((await a.get('/api/status/599')).status).toBe(599);
    const informational = await a.get('/api/status/100');
    expect(informational.status).toBe(200);
    expect(((await informational.json()) as { requested: number }).requested).toBe(100);
    for (const bad of ['99', '600', 'abc', '1e2', '-1']) {
      const response = await a.get(`/api/status/${bad}`);
      expect(response.status).toBe(400);
      expect(((await response.json()) as { error: string }).error).toContain('100 to 599');
    }
  });

  test('request-echo dumps the request as text for every method', async () => {
    const { a } = edgeWithCountingUpstreams();
    for (const method of ['GET', 'POST', 'PUT', 'DELETE', 'PATCH']) {
      const hasBody = method !== 'GET';
      const response = await a.get('/api/request-echo?x=1', {
        method,
        headers: { 'x-test': 'yes', 'content-type': 'application/json' },
        body: hasBody ? '{"hello":"%s %d"}' : undefined,
      });
      expect(response.status).toBe(200);
      expect(response.headers.get('content-type')).toBe('text/plain; charset=utf-8');
      const text = await response.text();
      expect(text).toStartWith(`${method} /api/request-echo?x=1 HTTP/1.1\r\n`);
      expect(text).toContain('x-test: yes');
      if (hasBody) expect(text).toEndWith('\r\n\r\n{"hello":"%s %d"}');
    }
  });

  test('request-echo refuses a body over the limit with 413', async () => {
    const { a } = edgeWithCountingUpstreams();
    const limit = a.settings.edge!.echoBodyLimitBytes;
    const big = await a.get('/api/request-echo', { method: 'POST', body: 'x'.repeat(limit + 1) });
    expect(big.status).toBe(413);
    expect(((await big.json()) as { error: string }).error).toContain(`${limit} bytes`);
    const exact = await a.get('/api/request-echo', { method: 'POST', body: 'x'.repeat(limit) });
    expect(exact.status).toBe(200);
  });

  test('a chunked body over the limit is refused too', async () => {
    const { a } = edgeWithCountingUpstreams();
    const limit = a.settings.edge!.echoBodyLimitBytes;
    const stream = new ReadableStream({
      start(controller) {
        for (let i = 0; i < 3; i++) controller.enqueue(new Uint8Array(limit / 2));
        controller.close();
      },
    });
    const response = await a.get('/api/request-echo', { method: 'POST', body: stream, duplex: 'half' } as RequestInit);
    expect(response.status).toBe(413);
  });

  test('the topology lists the call graph from the config', async () => {
    const { a } = edgeWithCountingUpstreams();
    const graph = (await (await a.get('/api/topology')).json()) as { roles: { id: string; upstreams: string[]; publishes?: string; consumes?: string; store?: string }[] };
    const byId = Object.fromEntries(graph.roles.map((r) => [r.id, r]));
    expect(byId.a!.upstreams).toEqual(['b', 'c']);
    expect(byId.d!.publishes).toBe('service-d.greeting');
    expect(byId.f!.consumes).toBe('service-d.greeting');
    expect(byId.f!.store).toBe('service-f.messages');
  });
});

describe("the gRPC variant's gateway shape at the edge (GREETING_SHAPE=gateway)", () => {
  test('the greetings in `greeting`, an error entry in `upstreamError` with its position, and the same status as the array', async () => {
    const ok = [{ id: '3b1d2c4e-5f60-4a7b-8c9d-0e1f2a3b4c5d', service: 'Service C', message: 'hi', created: new Date().toISOString(), hostname: 'h' }];
    const b = upstreamServer({ status: 503, body: { error: 'down' } });
    const c = upstreamServer({ body: ok });
    servers.push(b, c);
    const a = roleUnderTest('a', { SERVICE_B_URL: b.url, SERVICE_C_URL: c.url, GREETING_SHAPE: 'gateway' });
    const response = await a.get('/api/greeting');
    expect(response.status).toBe(502);
    const body = (await response.json()) as { greeting: { service: string; version: string }[]; upstreamError: { service: string; error: string; upstream: string; position: number }[] };
    expect(body.greeting.map((g) => g.service)).toEqual(['Service C', 'Service A']);
    // Every field emitted, as protojson does: the original's C sent no version, so it is empty.
    expect(body.greeting.map((g) => g.version)).toEqual(['', 'v1']);
    expect(body.upstreamError).toEqual([{ service: 'Service B', error: 'answered 503: down', upstream: b.url, position: 0 }]);
  });
});
