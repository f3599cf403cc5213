/**
 * The spans a role makes, through the role's real request handler: SERVER, CLIENT per upstream call, store, PRODUCER and
 * CONSUMER, their parent links, the B3 headers the next hop receives, and the trace ids in log lines. Spans go to the SDK's
 * in-memory exporter here; the tests under test/observability send them over HTTP to a collector.
 */
import { afterEach, describe, expect, test } from 'bun:test';
import { SpanKind, SpanStatusCode } from '@opentelemetry/api';
import { InMemorySpanExporter, type ReadableSpan } from '@opentelemetry/sdk-trace-base';
import { createBackends } from './backends/create';
import { instrumentQueue, instrumentStore } from './backends/instrumented';
import { MemoryQueue } from './backends/memory-queue';
import { MemoryStore } from './backends/memory-store';
import type { GreetingQueue, GreetingStore, RoleBackends } from './backends/types';
import { consumeGreetings } from './capabilities/consume';
import { readEnv } from './config/env';
import { loadConfig, resolveRole } from './config/settings';
import { makeGreeting } from './greeting';
import { buildRole } from './role';
import { createLogger } from './telemetry/log';
import { createMetrics } from './telemetry/metrics';
import { createTracing, type Tracing } from './telemetry/tracing';
import { inMemoryStore } from '../test/support/stored';
import { upstreamServer } from '../test/support/upstream-server';
import { eventually } from '../test/support/eventually';

const TRACE = '463ac35c9f6413ad48485a3953bb6124';
const SPAN = 'a2fb4a1d1a96d312';
const { config } = loadConfig();

const servers: ReturnType<typeof upstreamServer>[] = [];
afterEach(() => {
  for (const s of servers.splice(0)) s.stop();
});

/** A role built from the real config with its spans going to an in-memory exporter (or, `traced: false`, tracing off). */
function role(id: string, env: Record<string, string> = {}, options: { backends?: RoleBackends; traced?: boolean } = {}) {
  const settings = resolveRole(config, id, readEnv({ ROLE: id, ...env }));
  const lines: string[] = [];
  const log = createLogger(id, settings.logLevel, (line) => lines.push(line));
  const exporter = new InMemorySpanExporter();
  const built = buildRole(settings, config, options.backends ?? createBackends(settings, log), {
    log,
    spanExporter: options.traced === false ? undefined : exporter,
  });
  built.lifecycle.phase = 'serving';
  return {
    ...built,
    lines,
    logged: () => lines.map((l) => JSON.parse(l) as Record<string, string>),
    get: (path: string, headers: Record<string, string> = {}) => built.handle(new Request(`http://localhost${path}`, { headers })),
    spans: async (): Promise<ReadableSpan[]> => {
      await built.tracing?.flush();
      return exporter.getFinishedSpans();
    },
  };
}

/** An upstream stand-in that answers an empty subtree and remembers the headers of each call. */
function recordingUpstream(status = 200) {
  const seen: Record<string, string>[] = [];
  const server = upstreamServer({ status, body: (headers: Record<string, string>) => (seen.push(headers), status === 200 ? [] : { error: 'down' }) });
  servers.push(server);
  return { url: server.url, seen };
}

const parentOf = (span: ReadableSpan) => span.parentSpanContext?.spanId;
const one = (spans: ReadableSpan[], kind: SpanKind, match: (s: ReadableSpan) => boolean = () => true) => {
  const found = spans.filter((s) => s.kind === kind && match(s));
  expect(found).toHaveLength(1);
  return found[0]!;
};

describe('spans of one request', () => {
  test("SERVER continues the caller's trace; one CLIENT span per upstream; each callee gets its CLIENT span's B3 context", async () => {
    const b = recordingUpstream();
    const c = recordingUpstream();
    const a = role('a', { SERVICE_B_URL: b.url, SERVICE_C_URL: c.url });
    const response = await a.get('/api/greeting', { 'x-b3-traceid': TRACE, 'x-b3-spanid': SPAN, 'x-b3-sampled': '1', 'x-request-id': 'r-1' });
    expect(response.status).toBe(200);
    expect(response.headers.get('x-b3-traceid')).toBe(TRACE);

    const spans = await a.spans();
    expect(spans).toHaveLength(3);
    const server = one(spans, SpanKind.SERVER);
    expect(server.name).toBe('GET /api/greeting');
    expect(server.spanContext().traceId).toBe(TRACE);
    expect(parentOf(server)).toBe(SPAN);
    expect(server.attributes).toMatchObject({ 'http.route': '/api/greeting', 'http.response.status_code': 200, 'guid:x-request-id': 'r-1' });
    expect(server.resource.attributes['service.name']).toBe('service-a');
    for (const [upstream, callee] of [['b', b], ['c', c]] as const) {
      const client = one(spans, SpanKind.CLIENT, (s) => s.attributes['peer.service'] === `service-${upstream}`);
      expect(parentOf(client)).toBe(server.spanContext().spanId);
      expect(client.attributes['http.response.status_code']).toBe(200);
      expect(callee.seen[0]).toMatchObject({
        'x-b3-traceid': TRACE,
        'x-b3-spanid': client.spanContext().spanId,
        'x-b3-parentspanid': server.spanContext().spanId,
        'x-b3-sampled': '1',
        'x-request-id': 'r-1',
      });
    }
  });

  test('a failed upstream call is an error CLIENT span with its status; the degraded answer an error SERVER span', async () => {
    const b = recordingUpstream(503);
    const c = recordingUpstream();
    const a = role('a', { SERVICE_B_URL: b.url, SERVICE_C_URL: c.url });
    expect((await a.get('/api/greeting')).status).toBe(502);
    const spans = await a.spans();
    const failed = one(spans, SpanKind.CLIENT, (s) => s.attributes['peer.service'] === 'service-b');
    expect(failed.status).toEqual({ code: SpanStatusCode.ERROR, message: 'answered 503: down' });
    expect(failed.attributes).toMatchObject({ 'http.response.status_code': 503, 'error.type': '503' });
    expect(one(spans, SpanKind.SERVER).status.code).toBe(SpanStatusCode.ERROR);
  });

  test('an upstream that does not answer in time is an error span of type timeout', async () => {
    const slow = upstreamServer({ body: [], delayMs: 300 });
    servers.push(slow);
    const c = recordingUpstream();
    const a = role('a', { SERVICE_B_URL: slow.url, SERVICE_C_URL: c.url, UPSTREAM_TIMEOUT_MS: '50' });
    await a.get('/api/greeting');
    const timedOut = one(await a.spans(), SpanKind.CLIENT, (s) => s.attributes['peer.service'] === 'service-b');
    expect(timedOut.attributes['error.type']).toBe('timeout');
  });

  test('probes and scrapes are not traced', async () => {
    const g = role('g');
    for (const path of ['/api/health', '/api/ready', '/api/metrics']) expect((await g.get(path)).status).toBe(200);
    expect(await g.spans()).toEqual([]);
  });

  test('only the edge names the trace in its answer', async () => {
    const g = role('g');
    expect((await g.get('/api/greeting')).headers.get('x-b3-traceid')).toBeNull();
    expect(one(await g.spans(), SpanKind.SERVER)).toBeDefined();
  });

  test('a store write is a CLIENT span under the SERVER span; a failed write marks it failed', async () => {
    const down = { kind: 'mongodb', isReady: () => true, insert: async () => Promise.reject(new Error('no primary')) } as unknown as GreetingStore;
    const c = role('c', {}, { backends: { store: down } });
    expect((await c.get('/api/greeting')).status).toBe(503);
    const spans = await c.spans();
    const write = one(spans, SpanKind.CLIENT);
    expect(write.name).toBe('insert greetings');
    expect(write.attributes).toMatchObject({ 'db.system.name': 'mongodb', 'db.namespace': 'service-c', 'db.collection.name': 'greetings', 'db.operation.name': 'insert' });
    expect(write.status).toEqual({ code: SpanStatusCode.ERROR, message: 'no primary' });
    expect(parentOf(write)).toBe(one(spans, SpanKind.SERVER).spanContext().spanId);
  });

  test('every log line written while handling the request carries its trace id and span id', async () => {
    const down = { kind: 'memory', isReady: () => true, insert: async () => Promise.reject(new Error('down')) } as unknown as GreetingStore;
    const c = role('c', { LOG_LEVEL: 'debug' }, { backends: { store: down } });
    await c.get('/api/greeting', { 'x-request-id': 'req-7' });
    const server = one(await c.spans(), SpanKind.SERVER).spanContext();
    const logged = c.logged().filter((l) => l.requestId === 'req-7');
    expect(logged.length).toBeGreaterThan(0);
    for (const line of logged) expect(line).toMatchObject({ traceId: server.traceId, spanId: server.spanId });
  });
});

describe('tracing off', () => {
  test("no spans; log lines carry the caller's trace and span id", async () => {
    const down = { kind: 'memory', isReady: () => true, insert: async () => Promise.reject(new Error('down')) } as unknown as GreetingStore;
    const c = role('c', {}, { backends: { store: down }, traced: false });
    expect(c.tracing).toBeUndefined();
    await c.get('/api/greeting', { 'x-b3-traceid': TRACE, 'x-b3-spanid': SPAN, 'x-b3-sampled': '1' });
    expect(c.logged().find((l) => l.msg === 'greeting not accepted by its sink')).toMatchObject({ traceId: TRACE, spanId: SPAN });
  });

  test("the edge names the caller's trace in its answer, unless none came or it is not recorded; inner roles never", async () => {
    const b = recordingUpstream();
    const c = recordingUpstream();
    const a = role('a', { SERVICE_B_URL: b.url, SERVICE_C_URL: c.url }, { traced: false });
    expect((await a.get('/api/greeting', { 'x-b3-traceid': TRACE, 'x-b3-spanid': SPAN, 'x-b3-sampled': '1' })).headers.get('x-b3-traceid')).toBe(TRACE);
    expect((await a.get('/api/greeting')).headers.get('x-b3-traceid')).toBeNull();
    expect((await a.get('/api/greeting', { 'x-b3-traceid': TRACE, 'x-b3-spanid': SPAN, 'x-b3-sampled': '0' })).headers.get('x-b3-traceid')).toBeNull();
    const g = role('g', {}, { traced: false });
    expect((await g.get('/api/greeting', { 'x-b3-traceid': TRACE, 'x-b3-spanid': SPAN, 'x-b3-sampled': '1' })).headers.get('x-b3-traceid')).toBeNull();
  });
});

/** F's consumer on the given queue and store, wrapped as the role assembly wraps them. */
function consumeAsF(queue: GreetingQueue, store: GreetingStore, tracing: Tracing | undefined, log: ReturnType<typeof createLogger>) {
  const telemetry = { metrics: createMetrics({ role: 'f', app: 'service-f', version: 'v1' }), tracing };
  return consumeGreetings(instrumentQueue(queue, telemetry), instrumentStore(store, telemetry), config.services.f!.consume!, log);
}

describe('the message leg', () => {
  /** D publishing onto a queue F consumes from, as in the local run: one memory queue, each role with its own tracer. */
  async function publisherAndConsumer(store: GreetingStore, traced = true) {
    const queue = new MemoryQueue();
    const d = role('d', { LOG_LEVEL: 'debug' }, { backends: { queue }, traced });
    const exporter = new InMemorySpanExporter();
    const fTracing = traced ? createTracing({ serviceName: 'service-f', version: 'v1', sampleRatio: 1, exporter }) : undefined;
    const fLines: string[] = [];
    const fLog = createLogger('f', 'debug', (line) => fLines.push(line));
    const subscription = await consumeAsF(queue, store, fTracing, fLog);
    const fSpans = async () => {
      await fTracing?.flush();
      return exporter.getFinishedSpans();
    };
    return { d, fSpans, fLogged: () => fLines.map((l) => JSON.parse(l) as Record<string, string>), subscription };
  }

  test("F's CONSUMER span continues D's PRODUCER span from the message headers; F's write is under it", async () => {
    const { d, fSpans, subscription } = await publisherAndConsumer(new MemoryStore());
    expect((await d.get('/api/greeting', { 'x-b3-traceid': TRACE, 'x-b3-spanid': SPAN, 'x-b3-sampled': '1' })).status).toBe(200);
    await subscription.cancel();
    const dSpans = await d.spans();
    const producer = one(dSpans, SpanKind.PRODUCER);
    expect(producer.name).toBe('publish service-d.greeting');
    expect(parentOf(producer)).toBe(one(dSpans, SpanKind.SERVER).spanContext().spanId);
    const spans = await fSpans();
    const consumer = one(spans, SpanKind.CONSUMER);
    expect(consumer.spanContext().traceId).toBe(TRACE);
    expect(parentOf(consumer)).toBe(producer.spanContext().spanId);
    expect(consumer.attributes).toMatchObject({ 'messaging.destination.name': 'service-d.greeting', 'greeting.disposition': 'ack' });
    expect(consumer.resource.attributes['service.name']).toBe('service-f');
    const write = one(spans, SpanKind.CLIENT);
    expect(write.name).toBe('insert messages');
    expect(parentOf(write)).toBe(consumer.spanContext().spanId);
  });

  test("F's log lines carry the message's trace and its own CONSUMER span, never D's request", async () => {
    let failures = 1;
    const memory = new MemoryStore();
    const flaky = { kind: 'memory', isReady: () => true, insert: (t: never, g: never) => (failures-- > 0 ? Promise.reject(new Error('blip')) : memory.insert(t, g)) } as unknown as GreetingStore;
    const { d, fSpans, fLogged, subscription } = await publisherAndConsumer(flaky);
    await d.get('/api/greeting', { 'x-request-id': 'req-d' });
    // The requeued message comes back after the queue's requeue delay.
    await eventually(() => inMemoryStore(memory, config.services.f!.consume!.store).length > 0, 'the requeued message is stored').catch(() => undefined);
    await subscription.cancel();
    const consumers = (await fSpans()).filter((s) => s.kind === SpanKind.CONSUMER);
    expect(consumers.map((s) => s.attributes['greeting.disposition'])).toEqual(['requeue', 'ack']);
    const requeued = fLogged().find((l) => l.msg === 'message requeued')!;
    expect(requeued).toMatchObject({ requestId: 'req-d', traceId: consumers[0]!.spanContext().traceId, spanId: consumers[0]!.spanContext().spanId });
  });

  test('with tracing off the consumer still logs the trace ids the message carries', async () => {
    const flaky = { kind: 'memory', isReady: () => true, insert: () => Promise.reject(new Error('blip')) } as unknown as GreetingStore;
    const { d, fLogged, subscription } = await publisherAndConsumer(flaky, false);
    await d.get('/api/greeting', { 'x-request-id': 'req-e', 'x-b3-traceid': TRACE, 'x-b3-spanid': SPAN, 'x-b3-sampled': '1' });
    await subscription.cancel();
    expect(fLogged().find((l) => l.msg === 'message requeued')).toMatchObject({ requestId: 'req-e', traceId: TRACE, spanId: SPAN });
  });
});

test('greetings published by a foreign publisher (no headers) start a trace of their own', async () => {
  const queue = new MemoryQueue();
  const exporter = new InMemorySpanExporter();
  const tracing = createTracing({ serviceName: 'service-f', version: 'v1', sampleRatio: 1, exporter })!;
  const consume = config.services.f!.consume!;
  const sub = await consumeAsF(queue, new MemoryStore(), tracing, createLogger('f', 'error'));
  queue.put(consume.queue, JSON.stringify(makeGreeting('Service X', 'hi')));
  await sub.cancel();
  await tracing.flush();
  const consumer = one(exporter.getFinishedSpans(), SpanKind.CONSUMER);
  expect(consumer.parentSpanContext).toBeUndefined();
});
