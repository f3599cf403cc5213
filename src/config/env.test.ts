import { describe, expect, test } from 'bun:test';
import { readEnv, VARIABLES } from './env';
import { loadConfig, pickRole, resolveRole } from './settings';
import { ConfigError } from './config-error';

const problems = (env: Record<string, string>) => {
  try {
    readEnv(env);
  } catch (err) {
    return (err as ConfigError).problems.map((p) => `${p.path}: ${p.reason}`);
  }
  return [];
};

describe('environment', () => {
  test('PORT accepts the original :8080 form and a bare number', () => {
    expect(readEnv({ PORT: ':8080' }).port).toBe(8080);
    expect(readEnv({ PORT: '9090' }).port).toBe(9090);
    expect(problems({ PORT: 'eighty' })).toEqual(["PORT: 'eighty' is not a port (use 8080 or :8080)"]);
    expect(problems({ PORT: '70000' })).toHaveLength(1);
  });

  test('an invalid LOG_LEVEL is an error, not silence', () => {
    expect(problems({ LOG_LEVEL: 'verbose' })).toEqual(["LOG_LEVEL: 'verbose' is not one of debug, info, warn, error"]);
    expect(readEnv({ LOG_LEVEL: 'WARNING' }).logLevel).toBe('warn');
    expect(readEnv({}).logLevel).toBe('info');
  });

  test('a grpc:// upstream URL is called over gRPC, and TRANSPORT=grpc makes every default URL a gRPC one', () => {
    const { config } = loadConfig();
    const mixed = resolveRole(config, 'b', readEnv({ ROLE: 'b', SERVICE_E_URL: 'grpc://service-e:50051' }));
    expect(mixed.upstreams.map((u) => [u.id, u.transport, u.url])).toEqual([
      ['d', 'http', 'http://127.0.0.1:8083'],
      ['e', 'grpc', 'grpc://service-e:50051'],
    ]);
    const all = resolveRole(config, 'b', readEnv({ ROLE: 'b', TRANSPORT: 'grpc' }));
    expect(all.upstreams.map((u) => u.url)).toEqual(['grpc://127.0.0.1:18083', 'grpc://127.0.0.1:18084']);
    // B is called over gRPC by A when every hop is: it serves gRPC on its local gRPC port.
    expect(all.grpcPort).toBe(18081);
    expect(resolveRole(config, 'b', readEnv({ ROLE: 'b' })).grpcPort).toBeUndefined();
    expect(() => readEnv({ TRANSPORT: 'carrier-pigeon' })).toThrow("TRANSPORT: 'carrier-pigeon' is not one of http, grpc");
  });

  test('SERVICE_<X>_URL overrides the upstream URL of role x', () => {
    const env = readEnv({ ROLE: 'a', SERVICE_B_URL: 'http://service-b.dev.svc.cluster.local:8080/', SERVICE_C_URL: 'http://c:8080' });
    const { config } = loadConfig();
    const settings = resolveRole(config, 'a', env);
    expect(settings.upstreams).toEqual([
      { id: 'b', name: 'Service B', url: 'http://service-b.dev.svc.cluster.local:8080', transport: 'http' },
      { id: 'c', name: 'Service C', url: 'http://c:8080', transport: 'http' },
    ]);
  });

  test('a bad connection URL is reported without echoing its value', () => {
    const found = problems({ RABBITMQ_CONN: 'amqp//guest:s3cret@rabbit' });
    expect(found).toEqual(['RABBITMQ_CONN: is not a valid URL']);
    expect(found.join()).not.toContain('s3cret');
    expect(problems({ MONGO_CONN: 'http://user:pw@mongo' })).toEqual(["MONGO_CONN: scheme 'http:' is not one of mongodb:, mongodb+srv:"]);
  });

  test('every bad variable is reported at once', () => {
    expect(problems({ PORT: 'x', LOG_LEVEL: 'x', CHAOS_ERROR_RATE: '2', UPSTREAM_TIMEOUT_MS: '0' })).toHaveLength(4);
  });

  test('the original env names configure a role', () => {
    const { config, file } = loadConfig();
    const env = readEnv({ SERVICE_NAME: 'Service D', GREETING: 'Shalom!', QUEUE_NAME: 'q2', ALLOWED_ORIGINS: 'https://a.example, https://b.example' });
    const id = pickRole(config, env, file);
    expect(id).toBe('d');
    const d = resolveRole(config, id, env);
    expect([d.name, d.greeting, d.publish?.queue]).toEqual(['Service D', 'Shalom!', 'q2']);
    const a = resolveRole(config, 'a', env);
    expect(a.edge?.allowedOrigins).toEqual(['https://a.example', 'https://b.example']);
  });

  test('an unknown role names the roles that exist', () => {
    const { config, file } = loadConfig();
    expect(() => pickRole(config, readEnv({ ROLE: 'z' }), file)).toThrow("unknown role 'z': config/services.json (embedded) defines a, b, c, d, e, f, g, h");
    expect(() => pickRole(config, readEnv({}), file)).toThrow(/ROLE: not set/);
    expect(pickRole(config, readEnv({ ROLE: 'service-e' }), file)).toBe('e');
  });

  test('a config file from CONFIG_PATH that cannot be read names the file', () => {
    expect(() => loadConfig('/nonexistent/services.json')).toThrow('/nonexistent/services.json /: cannot read: ENOENT');
  });
});

describe('connection URLs', () => {
  test('a MongoDB replica-set seed list is accepted', () => {
    expect(readEnv({ MONGO_CONN: 'mongodb://u:p@h1:27017,h2:27017/?replicaSet=rs0' }).mongoUrl).toStartWith('mongodb://');
    expect(readEnv({ MONGO_CONN: 'mongodb+srv://cluster0.example.net/app' }).mongoUrl).toStartWith('mongodb+srv://');
  });

  test('a URL shown to callers (an upstream, the trace UI) with a user or a password alone is refused without echoing it', () => {
    for (const [name, value] of [
      ['SERVICE_B_URL', 'http://user:hunter2@service-b:8080'],
      ['SERVICE_B_URL', 'http://:hunter2@service-b:8080'],
      ['SERVICE_C_URL', 'grpc://:hunter2@service-c:50051'],
      ['TRACE_UI_URL', 'https://admin:hunter2@jaeger:16686'],
    ] as const) {
      const found = problems({ [name]: value });
      expect(found).toEqual([`${name}: must not carry credentials (the value is shown to callers)`]);
      expect(found.join()).not.toContain('hunter2');
    }
  });

  test('a gRPC upstream is host:port: a path, query or fragment is refused at start, not at the first call', () => {
    for (const url of ['grpc://b:50051/prefix', 'grpc://b:50051?x=1', 'grpc://b:50051#f'])
      expect(problems({ SERVICE_B_URL: url })).toEqual(['SERVICE_B_URL: a gRPC upstream is grpc://host:port, with no path, query or fragment']);
    expect(readEnv({ SERVICE_B_URL: 'grpc://b:50051/' }).upstreamUrls.b).toBe('grpc://b:50051');
  });
});

describe('names that JavaScript objects already hold', () => {
  test("ROLE=constructor or __proto__ is an unknown role (exit 78's error), LOG_LEVEL=constructor an unknown level", () => {
    const { config, file } = loadConfig();
    for (const role of ['constructor', '__proto__', 'toString']) expect(() => pickRole(config, readEnv({ ROLE: role }), file)).toThrow(`unknown role '${role.toLowerCase()}'`);
    for (const level of ['constructor', '__proto__']) expect(problems({ LOG_LEVEL: level })).toEqual([`LOG_LEVEL: '${level}' is not one of debug, info, warn, error`]);
  });
});

describe('QUEUE_NAME', () => {
  test("RabbitMQ's own names, control characters and names whose dead-letter queue would pass 255 bytes are refused", () => {
    expect(problems({ QUEUE_NAME: 'amq.gen-1' })).toEqual(["QUEUE_NAME: 'amq.gen-1' starts with 'amq.', which RabbitMQ keeps for its own queues"]);
    expect(problems({ QUEUE_NAME: 'a\u0001b' })).toEqual(['QUEUE_NAME: contains a control character']);
    expect(problems({ QUEUE_NAME: 'é'.repeat(122) })).toEqual(["QUEUE_NAME: is 244 bytes long: at most 243, so that its dead-letter queue's name ('.dead-letter' added) fits RabbitMQ's 255"]);
    expect(readEnv({ QUEUE_NAME: 'q'.repeat(243) }).queueName).toHaveLength(243);
  });
});

describe('the table of variables', () => {
  test('every variable is read by its declared name, and a blank value counts as unset', () => {
    for (const [key, v] of Object.entries(VARIABLES) as [keyof typeof VARIABLES, { name: string }][]) {
      expect({ key, value: readEnv({ [v.name]: '   ' })[key] }).toEqual({ key, value: readEnv({})[key] });
      // A value that no reader but the free-text ones takes: each checked variable names itself in the refusal.
      const refused = problems({ [v.name]: '\u0000not a value\u0000' });
      if (refused.length > 0) expect(refused.every((p) => p.startsWith(`${v.name}: `))).toBe(true);
    }
  });
});
