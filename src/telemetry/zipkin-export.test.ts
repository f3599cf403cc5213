/**
 * The Zipkin sender against a real HTTP server on loopback: what it posts, how each answer (or none) decides the batch's
 * fate, credentials in the URL, and that the package's exporter posts through it rather than through its own sender.
 */
import { afterAll, describe, expect, test } from 'bun:test';
import { ROOT_CONTEXT, SpanKind } from '@opentelemetry/api';
import { ExportResultCode, type ExportResult } from '@opentelemetry/core';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { InMemorySpanExporter, SimpleSpanProcessor, TraceIdRatioBasedSampler, type ReadableSpan } from '@opentelemetry/sdk-trace-base';
import { freePort } from '../platform/processes';
import { RecordingTracer } from './recording-tracer';
import { fetchSend, zipkinExporter } from './zipkin-export';

interface Received {
  path: string;
  headers: Record<string, string>;
  body: unknown;
}
const received: Received[] = [];
/** What the server does with the next POST: a status, or never answering. */
let answer: number | 'hang' = 202;
const server = Bun.serve({
  port: 0,
  hostname: '127.0.0.1',
  async fetch(request) {
    const url = new URL(request.url);
    received.push({ path: url.pathname, headers: Object.fromEntries(request.headers), body: await request.json() });
    if (answer === 'hang') return new Promise<Response>(() => undefined);
    if (answer >= 300 && answer < 400) return new Response(null, { status: answer, headers: { location: '/elsewhere' } });
    return new Response(answer >= 400 ? 'refused' : null, { status: answer });
  },
});
const base = `http://127.0.0.1:${server.port}`;
afterAll(() => server.stop(true));

const send = (url: string, spans: unknown[], timeoutMs = 2_000) =>
  new Promise<ExportResult>((resolve) => fetchSend(url, timeoutMs)(spans, resolve));
const SPAN = { traceId: '80f198ee56343ba864fe8b2a57d3eff7', id: 'e457b5a2e4d86bd1', name: 'get /api/greeting', timestamp: 1, duration: 2, localEndpoint: { serviceName: 'service-x' } };

describe('the Zipkin sender', () => {
  test('posts the batch as a JSON array to the URL; a 2xx is success', async () => {
    received.length = 0;
    answer = 202;
    const result = await send(`${base}/api/v2/spans`, [SPAN, SPAN]);
    expect(result).toEqual({ code: ExportResultCode.SUCCESS });
    expect(received).toHaveLength(1);
    expect(received[0]!.path).toBe('/api/v2/spans');
    expect(received[0]!.headers['content-type']).toBe('application/json');
    expect(received[0]!.body).toEqual([SPAN, SPAN]);
  });

  test('an empty batch sends nothing and succeeds', async () => {
    received.length = 0;
    expect(await send(`${base}/api/v2/spans`, [])).toEqual({ code: ExportResultCode.SUCCESS });
    expect(received).toEqual([]);
  });

  test("a 3xx is success and is not followed, as the package's sender has it", async () => {
    received.length = 0;
    answer = 307;
    expect((await send(`${base}/api/v2/spans`, [SPAN])).code).toBe(ExportResultCode.SUCCESS);
    expect(received.map((r) => r.path)).toEqual(['/api/v2/spans']);
  });

  test('a 4xx or 5xx fails the batch with the status as its reason', async () => {
    for (const status of [400, 503]) {
      answer = status;
      const result = await send(`${base}/api/v2/spans`, [SPAN]);
      expect(result.code).toBe(ExportResultCode.FAILED);
      expect(result.error?.message).toBe(`the collector answered ${status}`);
    }
  });

  test('nothing listening fails the batch, and the reason does not show the URL', async () => {
    const result = await send(`http://zipkin-user:s3cret@127.0.0.1:${await freePort()}/api/v2/spans`, [SPAN]);
    expect(result.code).toBe(ExportResultCode.FAILED);
    expect(result.error).toBeInstanceOf(Error);
    expect(result.error!.message).not.toContain('s3cret');
  });

  test('a collector that never answers fails the batch at the deadline', async () => {
    answer = 'hang';
    const started = performance.now();
    const result = await send(`${base}/api/v2/spans`, [SPAN], 200);
    expect(result.code).toBe(ExportResultCode.FAILED);
    expect(result.error?.message).toBe('the collector did not answer within 200 ms');
    expect(performance.now() - started).toBeLessThan(2_000);
    answer = 202;
  });

  test('a user and password in the URL go as Basic credentials, not in the request line', async () => {
    received.length = 0;
    answer = 202;
    const url = new URL(`${base}/api/v2/spans`);
    url.username = 'zipkin user';
    url.password = 'p@ss:word';
    expect((await send(url.href, [SPAN])).code).toBe(ExportResultCode.SUCCESS);
    expect(received[0]!.headers.authorization).toBe(`Basic ${Buffer.from('zipkin user:p@ss:word').toString('base64')}`);
    expect(received[0]!.path).toBe('/api/v2/spans');
    // A `%` that is not an escape is sent as written rather than failing the role's start.
    received.length = 0;
    expect((await send(`http://user%zz:pw@127.0.0.1:${server.port}/api/v2/spans`, [SPAN])).code).toBe(ExportResultCode.SUCCESS);
    expect(received[0]!.headers.authorization).toBe(`Basic ${Buffer.from('user%zz:pw').toString('base64')}`);
  });
});

describe('the exporter', () => {
  test("posts through this sender (its user agent), in Zipkin's model, with the role's service name", async () => {
    received.length = 0;
    answer = 202;
    const spans = new InMemorySpanExporter();
    const tracer = new RecordingTracer({
      resource: resourceFromAttributes({ 'service.name': 'service-x' }),
      scope: { name: 'greeting-mesh' },
      sampler: new TraceIdRatioBasedSampler(1),
      processors: [new SimpleSpanProcessor(spans)],
    });
    tracer.startSpan('GET /api/greeting', { kind: SpanKind.SERVER, attributes: { 'http.route': '/api/greeting' } }, ROOT_CONTEXT).end();
    const exporter = zipkinExporter(`${base}/api/v2/spans`, 2_000);
    const result = await new Promise<ExportResult>((resolve) => exporter.export(spans.getFinishedSpans() as ReadableSpan[], resolve));
    expect(result.code).toBe(ExportResultCode.SUCCESS);
    expect(received).toHaveLength(1);
    expect(received[0]!.headers['user-agent']).toBe('greeting-mesh');
    expect(received[0]!.body).toEqual([
      expect.objectContaining({ name: 'GET /api/greeting', kind: 'SERVER', localEndpoint: { serviceName: 'service-x' }, tags: expect.objectContaining({ 'http.route': '/api/greeting', 'service.name': 'service-x' }) }),
    ]);
    await exporter.shutdown();
  });
});
