import { describe, expect, test } from 'bun:test';
import { readFileSync } from 'node:fs';
import { ConfigError } from './config-error';
import { parseConfig, validateConfig } from './validate';

const FILE = 'config/services.json';
const base = () => JSON.parse(readFileSync(FILE, 'utf8'));

function problemsOf(raw: unknown) {
  try {
    validateConfig(raw, FILE);
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    return (err as ConfigError).problems;
  }
  throw new Error('config was accepted');
}

describe('config validation', () => {
  test('the shipped config is valid and describes the original call graph', () => {
    const config = validateConfig(base(), FILE);
    const graph = Object.fromEntries(Object.entries(config.services).map(([id, r]) => [id, r.upstreams]));
    expect(graph).toEqual({ a: ['b', 'c'], b: ['d', 'e'], c: [], d: [], e: ['g', 'h'], f: [], g: [], h: [] });
    expect(config.services.d!.publish?.queue).toBe('service-d.greeting');
    expect(config.services.f!.consume?.queue).toBe('service-d.greeting');
    expect(config.services.f!.consume?.store).toEqual({ database: 'service-f', collection: 'messages' });
    for (const id of ['c', 'g', 'h']) expect(config.services[id]!.store).toEqual({ database: `service-${id}`, collection: 'greetings' });
    expect(config.services.b!.greeting).toBe('Namasté (नमस्ते), from Service B!');
  });

  test('an upstream that is not a role is named by path', () => {
    const raw = base();
    raw.services.e.upstreams = ['g', 'x'];
    expect(problemsOf(raw)).toEqual([{ file: FILE, path: '/services/e/upstreams/1', reason: "upstream 'x' is not a role in this config" }]);
  });

  test('a cycle in the call graph is reported with its path', () => {
    const raw = base();
    raw.services.h.upstreams = ['b'];
    const problems = problemsOf(raw);
    expect(problems).toHaveLength(1);
    expect(problems[0]!.reason).toBe('call graph has a cycle: b -> e -> h -> b');
  });

  test('a role calling itself is a cycle', () => {
    const raw = base();
    raw.services.c.upstreams = ['c'];
    expect(problemsOf(raw).map((p) => p.reason)).toEqual(['call graph has a cycle: c -> c']);
  });

  test('a duplicate port names both roles', () => {
    const raw = base();
    raw.services.b.port = 8080;
    expect(problemsOf(raw)).toEqual([{ file: FILE, path: '/services/b/port', reason: "port 8080 is already used by role 'a'" }]);
  });

  test('a missing greeting is a schema problem at its path', () => {
    const raw = base();
    delete raw.services.c.greeting;
    const problems = problemsOf(raw);
    expect(problems.map((p) => p.path)).toEqual(['/services/c/greeting']);
    expect(problems[0]!.reason).toMatch(/required/i);
  });

  test('bad types and unknown fields are all listed at once', () => {
    const raw = base();
    raw.services.a.port = '8080';
    raw.services.b.upstreams = 'd';
    raw.services.c.stroe = {};
    raw.defaults.upstreamTimeoutMs = -1;
    const paths = problemsOf(raw).map((p) => p.path).sort();
    expect(paths).toEqual(['/defaults/upstreamTimeoutMs', '/services/a/port', '/services/b/upstreams', '/services/c/stroe']);
  });

  test('a role id that cannot name a Kubernetes object is refused', () => {
    const raw = base();
    raw.services.Bad_Id = raw.services.h;
    raw.services.Bad_Id.port = 9999;
    raw.services.Bad_Id.name = 'Service Bad';
    expect(problemsOf(raw).map((p) => p.path)).toContain('/services/Bad_Id');
  });

  test("'*' with credentials is refused", () => {
    const raw = base();
    raw.services.a.edge.allowCredentials = true;
    expect(problemsOf(raw)).toEqual([{ file: FILE, path: '/services/a/edge/allowCredentials', reason: "credentials cannot be allowed for origin '*'" }]);
  });

  test('a consumer of a queue nobody publishes to is refused', () => {
    const raw = base();
    raw.services.f.consume.queue = 'elsewhere';
    expect(problemsOf(raw).map((p) => p.path)).toEqual(['/services/f/consume/queue']);
  });

  test('text that is not JSON names the file', () => {
    expect(() => parseConfig('{ "services": ', 'my.json')).toThrow(/my\.json \/: not valid JSON/);
  });

  test('the error message lists every problem with file and path', () => {
    const raw = base();
    raw.services.b.port = 8080;
    raw.services.e.upstreams = ['zz'];
    try {
      validateConfig(raw, FILE);
      throw new Error('accepted');
    } catch (err) {
      const message = (err as Error).message;
      expect(message).toContain('2 problems');
      expect(message).toContain(`${FILE} /services/b/port:`);
      expect(message).toContain(`${FILE} /services/e/upstreams/0:`);
    }
  });

  test('exactly one role is the edge: none, or two, is refused with where', () => {
    const none = base();
    delete none.services.a.edge;
    expect(problemsOf(none)).toEqual([{ file: FILE, path: '/services', reason: 'no role is the edge: give exactly one role `edge` options' }]);
    const two = base();
    two.services.b.edge = {};
    expect(problemsOf(two)).toEqual([{ file: FILE, path: '/services/b/edge', reason: 'only one role can be the edge, but a, b all have `edge` options' }]);
  });

  test('an allowed origin that could never match a browser Origin is refused at its path', () => {
    const raw = base();
    raw.services.a.edge.allowedOrigins = ['https://ui.example.com/', 'https://ok.example.com'];
    expect(problemsOf(raw)).toEqual([
      { file: FILE, path: '/services/a/edge/allowedOrigins/0', reason: "'https://ui.example.com/' is not an origin as browsers send it: use 'https://ui.example.com'" },
    ]);
  });

  test('one problem is one line; a config nested absurdly deep is refused before it is walked', () => {
    const raw = base();
    raw.services.b.port = 8080;
    expect(() => validateConfig(raw, FILE)).toThrow(/^invalid configuration: config\/services\.json \/services\/b\/port: port 8080 is already used by role 'a'$/);
    const deep = `${'['.repeat(100_000)}${']'.repeat(100_000)}`;
    expect(() => parseConfig(deep, 'deep.json')).toThrow('invalid configuration: deep.json (character 65): nested deeper than 64 levels');
  });

  test("an upstream named like an Object property (constructor, __proto__) is not a role", () => {
    const raw = base();
    raw.services.e.upstreams = ['g', 'constructor'];
    expect(problemsOf(raw)).toEqual([{ file: FILE, path: '/services/e/upstreams/1', reason: "upstream 'constructor' is not a role in this config" }]);
  });

  test('a queue name RabbitMQ would refuse is refused here, at its path', () => {
    const raw = base();
    raw.services.d.publish.queue = raw.services.f.consume.queue = 'amq.greetings';
    const reason = "queue name 'amq.greetings' starts with 'amq.', which RabbitMQ keeps for its own queues";
    expect(problemsOf(raw)).toEqual([
      { file: FILE, path: '/services/d/publish/queue', reason },
      { file: FILE, path: '/services/f/consume/queue', reason },
    ]);
  });

  test('a duration past ten minutes is refused (a timer past 2^31-1 ms fires at once), as is a size past 256 MiB', () => {
    const raw = base();
    raw.defaults.upstreamTimeoutMs = 3_000_000_000;
    raw.defaults.shutdownTimeoutMs = 600_001;
    raw.defaults.upstreamMaxAnswerBytes = 2 ** 40;
    expect(problemsOf(raw).map((p) => p.path).sort()).toEqual(['/defaults/shutdownTimeoutMs', '/defaults/upstreamMaxAnswerBytes', '/defaults/upstreamTimeoutMs']);
  });
});
