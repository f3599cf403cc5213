/**
 * What a hostile or careless client can send, and what it gets: routing by the real path whatever the Host header, a 4xx
 * with a JSON reason for malformed input, tracing headers that are checked before they are forwarded, CORS by exact origin,
 * and nothing echoed back unbounded.
 */
import { afterEach, describe, expect, test } from 'bun:test';
import { readEnv } from '../config/env';
import { ConfigError } from '../config/config-error';
import { loadConfig, resolveRole } from '../config/settings';
import { roleUnderTest } from '../../test/support/role-under-test';
import { upstreamServer } from '../../test/support/upstream-server';

const servers: { stop(): void }[] = [];
afterEach(() => {
  for (const s of servers.splice(0)) s.stop();
});

/** A role behind a real socket, so what reaches it is what a client can put on the wire. */
function served(id: string, env: Record<string, string> = {}) {
  const role = roleUnderTest(id, env);
  const server = Bun.serve({ port: 0, hostname: '127.0.0.1', fetch: role.handle });
  servers.push({ stop: () => server.stop(true) });
  return { ...role, url: `http://127.0.0.1:${server.port}` };
}

function edgeWith(env: Record<string, string> = {}) {
  const seen: Record<string, string>[] = [];
  const b = upstreamServer({ body: ((h: Record<string, string>) => (seen.push(h), [])) as never });
  const c = upstreamServer({ body: [] });
  servers.push(b, c);
  return { a: roleUnderTest('a', { SERVICE_B_URL: b.url, SERVICE_C_URL: c.url, ...env }), seen };
}

describe('routing by the real path', () => {
  test('any Host header, short or odd, routes like any other: health is 200 and a path that does not exist is 404', async () => {
    const g = roleUnderTest('g');
    for (const host of ['x', 'xx', 'xxx', 'xxxx', 'a.b', '1.2.3.4:80', '[::1]:8080', 'very-long-host-name.example.com']) {
      expect((await g.handle(new Request(`http://${host}/api/health`))).status).toBe(200);
      expect((await g.handle(new Request(`http://${host}/xx/api/greeting`))).status).toBe(404);
      expect((await g.handle(new Request(`http://${host}/api/greeting`))).status).toBe(200);
    }
  });

  test('on the wire too: a 1-3 character Host header cannot change the route', async () => {
    const g = served('g');
    for (const host of ['x', 'xx', 'xxx']) {
      expect((await fetch(`${g.url}/api/health`, { headers: { host } })).status).toBe(200);
      expect((await fetch(`${g.url}/xx/api/greeting`, { headers: { host } })).status).toBe(404);
    }
  });
});

describe('malformed input is a 4xx with a JSON reason', () => {
  test('percent-encoding that does not decode, anywhere in the path', async () => {
    const { a } = edgeWith();
    for (const path of ['/api/status/%ff', '/api/status/%', '/api/status/%zz', '/api/status/200%', '/api/gr%e9eting', '/%c3%28']) {
      const response = await a.get(path);
      expect(response.status).toBe(400);
      expect(((await response.json()) as { error: string }).error).toStartWith('malformed percent-encoding in the path');
    }
    // Well-formed encodings still route.
    expect((await a.get('/api/status/%34%31%38')).status).toBe(418);
  });

  test('a 404 names the path, bounded: a 16 KB path is not echoed back', async () => {
    const g = roleUnderTest('g');
    const response = await g.get(`/${'a'.repeat(16_384)}`);
    expect(response.status).toBe(404);
    const body = await response.text();
    expect(body.length).toBeLessThan(300);
    expect(body).toContain('(16385 characters)');
  });
});

describe('tracing headers are checked before they are forwarded', () => {
  const valid = { 'x-b3-traceid': '80f198ee56343ba864fe8b2a57d3eff7', 'x-b3-spanid': 'e457b5a2e4d86bd1', 'x-b3-sampled': '1' };

  test('a value an upstream could not answer (DEL, tab, non-ASCII, too long, wrong shape) is dropped, named in X-Ignored-Headers', async () => {
    const cases: [string, string][] = [
      ['x-request-id', 'a\x7fb'],
      ['x-request-id', 'a\tb'],
      ['x-request-id', 'é'],
      ['x-request-id', 'r'.repeat(129)],
      ['x-b3-traceid', 'not-hex'],
      ['x-b3-spanid', '123'],
      ['x-b3-sampled', 'maybe'],
      ['x-b3-flags', '2'],
      ['x-ot-span-context', 'x'.repeat(513)],
      ['traceparent', '00-80F198EE56343BA864FE8B2A57D3EFF7-e457b5a2e4d86bd1-01'],
      ['traceparent', '00-80f198ee56343ba864fe8b2a57d3eff7-e457b5a2e4d86bd1'],
      ['traceparent', `cc-80f198ee56343ba864fe8b2a57d3eff7-e457b5a2e4d86bd1-01-${'f'.repeat(80)}`],
      ['tracestate', 'k=v\x7f'],
      ['tracestate', `k=${'v'.repeat(511)}`],
    ];
    for (const [name, value] of cases) {
      const { a, seen } = edgeWith();
      const response = await a.get('/api/greeting', { headers: { ...valid, [name]: value } });
      expect(response.status).toBe(200);
      expect(response.headers.get('x-ignored-headers')).toStartWith(`${name} (not `);
      expect(seen).toHaveLength(1);
      if (name === 'x-request-id') expect(seen[0]![name]).toMatch(/^[0-9a-f-]{36}$/);
      else expect(seen[0]![name]).toBeUndefined();
      // The valid ones travel on.
      if (name !== 'x-b3-traceid') expect(seen[0]!['x-b3-traceid']).toBe(valid['x-b3-traceid']);
    }
  });

  test('on the wire: a DEL byte in X-Request-Id no longer fails the chain with 502', async () => {
    const g = served('g');
    const { connect } = await import('node:net');
    const port = Number(new URL(g.url).port);
    const answer = await new Promise<string>((resolve) => {
      const socket = connect(port, '127.0.0.1', () =>
        socket.write(Buffer.from('GET /api/greeting HTTP/1.1\r\nHost: x\r\nConnection: close\r\nX-Request-Id: a\x7fb\r\n\r\n', 'latin1')),
      );
      let out = '';
      socket.on('data', (d) => (out += d.toString('latin1')));
      socket.on('close', () => resolve(out));
    });
    expect(answer).toStartWith('HTTP/1.1 200');
    expect(answer.toLowerCase()).toContain('x-ignored-headers: x-request-id (not up to 128 printable ascii characters)');
  });

  test('well-formed values pass untouched, with no X-Ignored-Headers', async () => {
    const { a, seen } = edgeWith();
    const w3c = { traceparent: '00-80f198ee56343ba864fe8b2a57d3eff7-e457b5a2e4d86bd1-01', tracestate: 'rojo=00f067aa0ba902b7, congo=t61rcWkgMzE' };
    const response = await a.get('/api/greeting', { headers: { ...valid, ...w3c, 'x-request-id': 'req-42', 'x-b3-flags': '0' } });
    expect(response.headers.get('x-ignored-headers')).toBeNull();
    expect(seen[0]).toMatchObject({ ...valid, ...w3c, 'x-request-id': 'req-42', 'x-b3-flags': '0' });
  });
});

describe('CORS matches the serialized origin exactly', () => {
  const listed = 'http://ui.example.test';

  test('look-alikes, prototype keys and scheme tricks get no CORS headers; the listed origin does, with credentials', async () => {
    const { a } = edgeWith({ ALLOWED_ORIGINS: `${listed},https://other.example.test` });
    const creds = roleUnderTest('a', { ALLOWED_ORIGINS: listed }, { config: withCredentials() });
    for (const edge of [a, creds]) {
      for (const origin of ['x://http://ui.example.test', 'toString', '__proto__', 'constructor', 'http://ui.example.test.evil', 'http://evil.ui.example.test', 'HTTP://UI.EXAMPLE.TEST', 'http://ui.example.test/', 'null', 'ui.example.test']) {
        for (const method of ['GET', 'OPTIONS']) {
          const headers: Record<string, string> = { origin };
          if (method === 'OPTIONS') headers['access-control-request-method'] = 'GET';
          const response = await edge.get('/api/health', { method, headers });
          expect([origin, response.headers.get('access-control-allow-origin')]).toEqual([origin, null]);
          expect([origin, response.headers.get('access-control-allow-credentials')]).toEqual([origin, null]);
        }
      }
    }
    expect((await a.get('/api/health', { headers: { origin: listed } })).headers.get('access-control-allow-origin')).toBe(listed);
    const allowed = await creds.get('/api/health', { method: 'OPTIONS', headers: { origin: listed, 'access-control-request-method': 'GET' } });
    expect(allowed.headers.get('access-control-allow-origin')).toBe(listed);
    expect(allowed.headers.get('access-control-allow-credentials')).toBe('true');
  });

  function withCredentials() {
    const config = structuredClone(loadConfig().config);
    config.services.a!.edge = { ...config.services.a!.edge!, allowedOrigins: [listed], allowCredentials: true };
    return config;
  }
});

describe('ALLOWED_ORIGINS that could never match is refused at start-up', () => {
  const problems = (value: string) => {
    try {
      resolveRole(loadConfig().config, 'a', readEnv({ ROLE: 'a', ALLOWED_ORIGINS: value }));
      return [];
    } catch (err) {
      return (err as ConfigError).problems.map((p) => `${p.path}: ${p.reason}`);
    }
  };

  test('an empty list, stray commas, trailing slashes, paths and bare hosts each get a reason', () => {
    expect(problems(',')[0]).toStartWith("ALLOWED_ORIGINS: ',' has an empty entry");
    expect(problems('https://a.example,,https://b.example')[0]).toContain('has an empty entry');
    expect(problems('https://ui.example.com/')).toEqual(["ALLOWED_ORIGINS: 'https://ui.example.com/' is not an origin as browsers send it: use 'https://ui.example.com'"]);
    expect(problems('https://ui.example.com/app')[0]).toContain("use 'https://ui.example.com'");
    expect(problems('HTTPS://UI.example.com')[0]).toContain("use 'https://ui.example.com'");
    expect(problems('ui.example.com')[0]).toContain('is not an origin');
    expect(problems('ftp://ui.example.com')[0]).toContain('is not an http or https origin');
    expect(problems('https://ui.example.com, http://localhost:4200')).toEqual([]);
    expect(problems('*')).toEqual([]);
  });
});
