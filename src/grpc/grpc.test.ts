/**
 * The gRPC layer on loopback: a role's gRPC port (serveGrpc) and the upstream transport (GrpcClient) saying every outcome
 * as grpc/wire.ts does, the tracing metadata, deadlines, health, reflection through the grpcurl binary, the graceful stop,
 * the conventional metrics, and a soak of 200 parallel calls with 200 KB messages each way: grpc-js on Bun's node:http2 is
 * the one stack that held it (Connect's server did not), so a Bun upgrade that breaks it fails here.
 */
import { afterEach, describe, expect, test } from 'bun:test';
import { execFileSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { createServer } from 'node:net';
import { create, createFileRegistry, fromBinary, toBinary, type DescMessage } from '@bufbuild/protobuf';
import { FileDescriptorSetSchema } from '@bufbuild/protobuf/wkt';
import * as grpc from '@grpc/grpc-js';
import { Registry } from 'prom-client';
import type { Upstream } from '../config/settings';
import type { Greeting, GreetingEntry, RoleAnswer, UpstreamError } from '../greeting';
import { Lifecycle } from '../serving/lifecycle';
import { createLogger } from '../telemetry/log';
import { eventually } from '../../test/support/eventually';
import { describeRequiring } from '../../test/support/requirements';
import { grpcurl, grpcurlBinary } from '../../test/support/grpcurl';
import { missingTool } from '../../test/support/tools';
import { GrpcClient, targetOf } from './client';
import { methodDefinition } from './codec';
import { fromResponse, toResponse } from './entries';
import { GreetingRequestSchema, GreetingResponseSchema, GreetingSchema, GreetingService } from './gen/greeting/v3/greeting_pb';
import { HealthCheckRequestSchema, HealthCheckResponse_ServingStatus as Serving, Health, type HealthCheckResponse } from './gen/grpc/health/v1/health_pb';
import { recordToMetadata } from './metadata';
import { createGrpcMetrics } from './metrics';
import { serveGrpc, type GrpcListening } from './server';

const HOST = '127.0.0.1';
const greeting = (service: string, message = `hello from ${service}`): Greeting => ({
  id: randomUUID(),
  service,
  message,
  created: new Date().toISOString(),
  hostname: 'test-host',
  version: 'v1',
});
const failure = (service: string): UpstreamError => ({ service, error: `no answer within 100 ms`, upstream: `grpc://${service}:50051` });

const open: GrpcListening[] = [];
const clients: GrpcClient[] = [];
afterEach(async () => {
  for (const c of clients.splice(0)) c.close();
  await Promise.all(open.splice(0).map((l) => l.stop(100)));
});

/** A gRPC port answering what `greet` says, as a role's would; its registry and lifecycle for the checks. */
async function serve(greet: (forward: Record<string, string>, withinMs?: number) => Promise<RoleAnswer>) {
  const registry = new Registry();
  const lifecycle = new Lifecycle([]);
  lifecycle.phase = 'serving';
  const listening = await serveGrpc({ port: 0, hostname: HOST, greet, lifecycle, metrics: createGrpcMetrics(registry, 'b'), log: createLogger('b', 'error') });
  open.push(listening);
  return { ...listening, registry, lifecycle, upstream: { id: 'b', name: 'Service B', url: `grpc://${HOST}:${listening.port}`, transport: 'grpc' } as Upstream };
}

function client(registry = new Registry()) {
  const c = new GrpcClient(createGrpcMetrics(registry, 'a'), 4 * 1024 * 1024);
  clients.push(c);
  return c;
}

const whole = (entries: GreetingEntry[]): RoleAnswer => ({ outcome: 'whole', entries, timings: [{ id: 'b', name: 'Service B', durationMs: 0.5 }] });

async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((r) => server.listen(0, HOST, () => r()));
  const port = (server.address() as { port: number }).port;
  await new Promise<void>((r) => server.close(() => r()));
  return port;
}

describe('entries <-> GreetingResponse', () => {
  test('errors keep their place among the greetings, at the start, between, together and at the end; version travels', () => {
    const entries: GreetingEntry[] = [failure('Service D'), greeting('Service E'), failure('Service G'), failure('Service H'), greeting('Service B'), greeting('Service A'), failure('Service C')];
    const response = toResponse(entries);
    expect(response.greeting.map((g) => g.service)).toEqual(['Service E', 'Service B', 'Service A']);
    expect(response.upstreamError.map((e) => [e.service, e.position])).toEqual([['Service D', 0], ['Service G', 1], ['Service H', 1], ['Service C', 3]]);
    expect(fromResponse(fromBinary(GreetingResponseSchema, toBinary(GreetingResponseSchema, response)))).toEqual({ entries });
  });

  test('an answer whose error positions run past the end is refused, as is a malformed greeting', () => {
    const response = toResponse([greeting('Service E'), failure('Service G')]);
    response.upstreamError[0]!.position = 5;
    expect(fromResponse(response)).toEqual({ problem: 'upstream error for Service G at position 5 of 1' });
    expect(fromResponse(toResponse([{ ...greeting('Service E'), id: 'not-a-uuid' }]))).toEqual({ problem: 'a greeting id is not a uuid v4' });
  });

  test("a client of the original contract reads every greeting of ours, in order, and skips what it does not know", () => {
    // The original's schema, compiled by buf from test/fixtures/original-proto (the baseline `buf breaking` checks against).
    const image = execFileSync('node_modules/.bin/buf', ['build', 'test/fixtures/original-proto', '--as-file-descriptor-set', '-o', '-']);
    const original = createFileRegistry(fromBinary(FileDescriptorSetSchema, image)).getMessage('greeting.v3.GreetingResponse') as DescMessage;
    const entries = [greeting('Service D'), failure('Service G'), greeting('Service E'), greeting('Service A')];
    const asOld = fromBinary(original, toBinary(GreetingResponseSchema, toResponse(entries))) as unknown as { greeting: Record<string, string>[] };
    expect(asOld.greeting.map((g) => g.service)).toEqual(['Service D', 'Service E', 'Service A']);
    const { version: _, ...fiveFields } = entries[0] as Greeting;
    expect(asOld.greeting[0]).toMatchObject(fiveFields);
  });
});

describe('metadata and addresses', () => {
  test('text keys travel; reserved, binary and illegal ones do not', () => {
    const md = recordToMetadata({ 'X-Request-Id': 'r1', traceparent: '00-ab-cd-01', te: 'trailers', 'grpc-timeout': '1S', 'bad key': 'x', 'x-ok': 'v', 'x-b3-flags': 'é' });
    expect(md.getMap()).toEqual({ 'x-request-id': 'r1', traceparent: '00-ab-cd-01', 'x-ok': 'v' });
  });

  test('upstream URLs become grpc-js targets', () => {
    expect(targetOf('grpc://service-b:50051')).toBe('service-b:50051');
    expect(targetOf('http://127.0.0.1:50052/')).toBe('127.0.0.1:50052');
    expect(() => targetOf('grpc://b:1/api/greeting')).toThrow();
  });
});

describe('every outcome, through the transport', () => {
  test('whole: OK, the greetings in order, the tracing headers in as metadata (the bad ones dropped), timings back', async () => {
    let forwarded: Record<string, string> = {};
    const own = greeting('Service B');
    const b = await serve(async (forward) => ((forwarded = forward), whole([greeting('Service D'), own])));
    const headers = { 'x-request-id': 'req-1', 'x-b3-traceid': '463ac35c9f6413ad48485a3953bb6124', 'x-b3-spanid': 'a2fb4a1d1a96d312', 'x-b3-sampled': '1', 'x-b3-flags': '2' };
    const answer = await client().call({ upstream: b.upstream, headers, timeoutMs: 2_000 });
    expect(answer).toMatchObject({ outcome: 'whole', code: 'OK', timings: [{ id: 'b', name: 'Service B', durationMs: 0.5 }] });
    expect((answer as { entries: Greeting[] }).entries.map((g) => g.service)).toEqual(['Service D', 'Service B']);
    expect((answer as { entries: Greeting[] }).entries[1]).toEqual(own);
    const { 'x-b3-flags': _, ...valid } = headers;
    expect(forwarded).toEqual(valid);
  });

  test('partial: the status says UNAVAILABLE and the details carry every greeting that arrived, the error entries in place', async () => {
    const entries = [greeting('Service D'), failure('Service G'), greeting('Service E'), greeting('Service B')];
    const b = await serve(async () => ({ outcome: 'partial', entries, timings: [] }));
    const answer = await client().call({ upstream: b.upstream, headers: {}, timeoutMs: 2_000 });
    expect(answer).toMatchObject({ outcome: 'partial', code: 'UNAVAILABLE' });
    expect((answer as { entries: GreetingEntry[] }).entries).toEqual(entries);
  });

  test("a role's own failure is INTERNAL, a refusing store UNAVAILABLE, each with its reason, labelled by code name", async () => {
    const b = await serve(async (forward) =>
      forward['x-request-id'] === 'chaos'
        ? { outcome: 'failed', error: { service: 'Service B', error: 'chaos: injected error' }, timings: [] }
        : { outcome: 'refused', error: { service: 'Service B', error: 'cannot store greeting: down' }, timings: [] },
    );
    const c = client();
    expect(await c.call({ upstream: b.upstream, headers: { 'x-request-id': 'chaos' }, timeoutMs: 2_000 })).toMatchObject({
      outcome: 'failed',
      failure: 'INTERNAL',
      reason: 'INTERNAL: chaos: injected error',
    });
    expect(await c.call({ upstream: b.upstream, headers: {}, timeoutMs: 2_000 })).toMatchObject({ outcome: 'failed', failure: 'UNAVAILABLE', reason: 'UNAVAILABLE: cannot store greeting: down' });
  });

  test('the caller\'s deadline reaches the role (to bound its own calls); a slow role gives DEADLINE_EXCEEDED at the deadline', async () => {
    let within: number | undefined;
    let arrivedAfter: number | undefined;
    let started = 0;
    const b = await serve(async (_, withinMs) => {
      arrivedAfter = performance.now() - started;
      within = withinMs;
      await Bun.sleep(3_000);
      return whole([]);
    });
    started = performance.now();
    const answer = await client().call({ upstream: b.upstream, headers: {}, timeoutMs: 200 });
    expect(answer).toMatchObject({ outcome: 'failed', failure: 'DEADLINE_EXCEEDED', reason: 'no answer within 200 ms' });
    // Well short of the role's 3 s: the caller gave up at its deadline.
    expect(performance.now() - started).toBeLessThan(1_500);
    // The role was given the caller's 200 ms less what the call took to reach it (a new channel's connect, on a busy machine
    // tens of ms), no more.
    expect(within!).toBeLessThanOrEqual(200);
    expect(within! + arrivedAfter!).toBeGreaterThan(150);
  });

  test('an answer that cannot be put into metadata still ends the call (INTERNAL), never leaves it open', async () => {
    // A trailer value must be ASCII: the role's answer carries a timing grpc-js refuses.
    const b = await serve(async () => ({ outcome: 'whole', entries: [greeting('Service B')], timings: [{ id: 'bé', name: 'Service B', durationMs: 1 }] }));
    const started = performance.now();
    expect(await client().call({ upstream: b.upstream, headers: {}, timeoutMs: 5_000 })).toMatchObject({ outcome: 'failed', failure: 'INTERNAL' });
    expect(performance.now() - started).toBeLessThan(2_500);
  });

  test('an upstream that is not there gives UNAVAILABLE at once, not at the deadline', async () => {
    const started = performance.now();
    const answer = await client().call({ upstream: { id: 'x', name: 'Service X', url: `grpc://${HOST}:${await closedPort()}`, transport: 'grpc' }, headers: {}, timeoutMs: 3_000 });
    expect(answer).toMatchObject({ outcome: 'failed', failure: 'UNAVAILABLE' });
    expect(performance.now() - started).toBeLessThan(1_500);
  });

  test('metrics: the conventional series on both sides, by method and code', async () => {
    const b = await serve(async () => whole([]));
    const callerRegistry = new Registry();
    await client(callerRegistry).call({ upstream: b.upstream, headers: {}, timeoutMs: 2_000 });
    const server = await b.registry.metrics();
    const caller = await callerRegistry.metrics();
    const labels = 'grpc_type="unary",grpc_service="greeting.v3.GreetingService",grpc_method="Greeting"';
    expect(server).toContain(`grpc_server_handled_total{role="b",${labels},grpc_code="OK"} 1`);
    expect(server).toContain(`grpc_server_handling_seconds_count{role="b",${labels}} 1`);
    expect(caller).toContain(`grpc_client_handled_total{role="a",${labels},grpc_code="OK"} 1`);
  });
});

describe('soak: 200 calls at once, 200 KB each way', () => {
  const big = () => 'x'.repeat(200 * 1024);

  test('200 answers of 200 KB through the transport, every one intact', async () => {
    const payload = big();
    const b = await serve(async () => whole([greeting('Service B', payload)]));
    const c = client();
    const answers = await Promise.all(Array.from({ length: 200 }, () => c.call({ upstream: b.upstream, headers: {}, timeoutMs: 30_000 })));
    expect(answers.filter((a) => a.outcome === 'whole' && (a.entries[0] as Greeting).message.length === payload.length)).toHaveLength(200);
  }, 60_000);

  test('200 requests of 200 KB in, 200 KB answers out, on one channel', async () => {
    const payload = big();
    const b = await serve(async () => whole([greeting('Service B', payload)]));
    const method = methodDefinition(GreetingService.method.greeting);
    const raw = new grpc.Client(`${HOST}:${b.port}`, grpc.credentials.createInsecure());
    const request = create(GreetingRequestSchema, { greeting: create(GreetingSchema, { message: payload }) });
    try {
      const sizes = await Promise.all(
        Array.from({ length: 200 }, () =>
          new Promise<number>((resolve, reject) =>
            raw.makeUnaryRequest(method.path, method.requestSerialize, method.responseDeserialize, request, new grpc.Metadata(), { deadline: Date.now() + 30_000 }, (err, value) =>
              err ? reject(err) : resolve((value as { greeting: Greeting[] }).greeting[0]!.message.length),
            ),
          ),
        ),
      );
      expect(sizes.every((s) => s === payload.length)).toBe(true);
    } finally {
      raw.close();
    }
  }, 60_000);
});

describe('health', () => {
  function healthClient(port: number) {
    const check = methodDefinition(Health.method.check);
    const watch = methodDefinition(Health.method.watch);
    const raw = new grpc.Client(`${HOST}:${port}`, grpc.credentials.createInsecure());
    return {
      check: (service: string) =>
        new Promise<{ code: number; status?: Serving }>((resolve) =>
          raw.makeUnaryRequest(check.path, check.requestSerialize, check.responseDeserialize, create(HealthCheckRequestSchema, { service }), new grpc.Metadata(), {}, (err, value) =>
            resolve({ code: err?.code ?? 0, status: (value as HealthCheckResponse | undefined)?.status }),
          ),
        ),
      watch: (service: string) => raw.makeServerStreamRequest(watch.path, watch.requestSerialize, watch.responseDeserialize, create(HealthCheckRequestSchema, { service }), new grpc.Metadata(), {}),
      close: () => raw.close(),
    };
  }

  test('Check follows the role: SERVING while ready, NOT_SERVING while draining, NOT_FOUND for a service it does not have', async () => {
    const b = await serve(async () => whole([]));
    const health = healthClient(b.port);
    try {
      expect(await health.check('')).toEqual({ code: 0, status: Serving.SERVING });
      expect(await health.check('greeting.v3.GreetingService')).toEqual({ code: 0, status: Serving.SERVING });
      b.lifecycle.phase = 'draining';
      expect(await health.check('greeting.v3.GreetingService')).toEqual({ code: 0, status: Serving.NOT_SERVING });
      expect((await health.check('no.such.Service')).code).toBe(grpc.status.NOT_FOUND);
    } finally {
      health.close();
    }
  });

  test('Watch tells each change, and ends when the server stops, without holding the graceful stop', async () => {
    const b = await serve(async () => whole([]));
    const health = healthClient(b.port);
    const seen: Serving[] = [];
    const stream = health.watch('');
    stream.on('data', (r: HealthCheckResponse) => seen.push(r.status));
    const ended = new Promise<number>((resolve) => stream.on('status', (s: grpc.StatusObject) => resolve(s.code)));
    await eventually(() => seen.length === 1, 'the Watch tells the first status');
    b.lifecycle.phase = 'draining';
    // Seen by the once-a-second poll.
    await Bun.sleep(1_300);
    const stopping = performance.now();
    await b.stop(5_000);
    expect(performance.now() - stopping).toBeLessThan(1_000);
    expect(await ended).toBe(grpc.status.OK);
    expect(seen).toEqual([Serving.SERVING, Serving.NOT_SERVING]);
    health.close();
  }, 10_000);
});

describe('stopping', () => {
  test('graceful: a call in flight finishes, a new one is refused, then it resolves', async () => {
    let arrived!: () => void;
    const inRole = new Promise<void>((resolve) => (arrived = resolve));
    const b = await serve(async () => (arrived(), await Bun.sleep(400), whole([greeting('Service B')])));
    const c = client();
    const inFlight = c.call({ upstream: b.upstream, headers: {}, timeoutMs: 5_000 });
    // Stopped once the call is in the role: a stop before it arrived would refuse it, rightly.
    await inRole;
    const stopped = b.stop(5_000);
    const late = await client().call({ upstream: b.upstream, headers: {}, timeoutMs: 2_000 });
    expect(late).toMatchObject({ outcome: 'failed', failure: 'UNAVAILABLE' });
    expect((await inFlight).outcome).toBe('whole');
    await stopped;
  });
});

describeRequiring('reflection and health through grpcurl, a real client', missingTool(grpcurlBinary), ({ test }) => {
  test('list, describe and a call with no local .proto file; health SERVING; a partial answer shows its status and details', async () => {
    const b = await serve(async (forward) =>
      forward['x-request-id'] === 'partial'
        ? { outcome: 'partial', entries: [failure('Service G'), greeting('Service E')], timings: [] }
        : whole([greeting('Service E', `request ${forward['x-request-id']}`)]),
    );
    const address = `${HOST}:${b.port}`;
    const list = await grpcurl('-plaintext', address, 'list');
    expect(list.out.split('\n').filter(Boolean).sort()).toEqual(['greeting.v3.GreetingService', 'grpc.health.v1.Health', 'grpc.reflection.v1.ServerReflection']);
    expect((await grpcurl('-plaintext', address, 'describe', 'greeting.v3.GreetingService')).out).toContain('rpc Greeting ( .greeting.v3.GreetingRequest ) returns ( .greeting.v3.GreetingResponse );');
    const called = await grpcurl('-plaintext', '-H', 'x-request-id: r-7', '-d', '{}', address, 'greeting.v3.GreetingService/Greeting');
    expect(called.code).toBe(0);
    expect(JSON.parse(called.out).greeting[0]).toMatchObject({ service: 'Service E', message: 'request r-7', version: 'v1' });
    const partial = await grpcurl('-plaintext', '-H', 'x-request-id: partial', '-d', '{}', address, 'greeting.v3.GreetingService/Greeting');
    expect(partial.code).not.toBe(0);
    expect(partial.out).toContain('Code: Unavailable');
    expect(partial.out).toContain('partial: Service G failed');
    expect(partial.out).toContain('"@type": "type.googleapis.com/greeting.v3.GreetingResponse"');
    expect(JSON.parse((await grpcurl('-plaintext', '-d', '{"service": "greeting.v3.GreetingService"}', address, 'grpc.health.v1.Health/Check')).out)).toEqual({ status: 'SERVING' });
  });
});
