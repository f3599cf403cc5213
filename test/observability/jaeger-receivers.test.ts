/**
 * The Jaeger helper's two ways in, without the service: a span posted as Zipkin v2 JSON and one posted as OTLP/HTTP JSON to
 * the endpoint `exporterEnv('otlp')` names both come back from the query API with their service, kind and parent, in the span
 * model the trace checks read. So a failing trace test over either exporter points at the service, not at this harness.
 */
import { expect } from 'bun:test';
import { jaegerBinary, startJaeger, type Jaeger } from '../support/jaeger';
import { describeRequiring } from '../support/requirements';
import { missingTool } from '../support/tools';

let jaeger: Jaeger;
describeRequiring("Jaeger's receivers", missingTool(jaegerBinary), ({ afterAll, beforeAll, test }) => {
  beforeAll(async () => {
    jaeger = await startJaeger();
  }, 60_000);
  afterAll(async () => {
    await jaeger?.stop();
  });

  const post = async (url: string, body: unknown) => {
    const response = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
    await response.arrayBuffer();
    return response.status;
  };

  test('a Zipkin v2 span comes back with its service, kind and parent', async () => {
    const traceId = 'a1b2c3d4e5f60718293a4b5c6d7e8f90';
    const status = await post(jaeger.exporterEnv('zipkin').ZIPKIN_URL!, [
      { traceId, id: '1111111111111111', name: 'get /api/greeting', kind: 'SERVER', timestamp: Date.now() * 1000, duration: 1500, localEndpoint: { serviceName: 'service-x' } },
      { traceId, id: '2222222222222222', parentId: '1111111111111111', name: 'publish', kind: 'PRODUCER', timestamp: Date.now() * 1000, duration: 200, localEndpoint: { serviceName: 'service-y' } },
    ]);
    expect(status).toBe(202);
    const spans = await jaeger.waitForTrace(traceId, (s) => s.length === 2, 5_000);
    expect(spans.map((s) => ({ service: s.localEndpoint.serviceName, kind: s.kind, id: s.id, parent: s.parentId })).sort((a, b) => a.id.localeCompare(b.id))).toEqual([
      { service: 'service-x', kind: 'SERVER', id: '1111111111111111', parent: undefined },
      { service: 'service-y', kind: 'PRODUCER', id: '2222222222222222', parent: '1111111111111111' },
    ]);
  });

  test('an OTLP/HTTP span sent where OTEL_EXPORTER_OTLP_ENDPOINT points comes back the same way', async () => {
    const traceId = '0f1e2d3c4b5a69788796a5b4c3d2e1f0';
    const now = BigInt(Date.now()) * 1_000_000n;
    const resourceSpans = (service: string, span: object) => ({
      resource: { attributes: [{ key: 'service.name', value: { stringValue: service } }] },
      scopeSpans: [{ spans: [span] }],
    });
    // OTLP's SpanKind: 2 SERVER, 5 CONSUMER.
    const status = await post(`${jaeger.exporterEnv('otlp').OTEL_EXPORTER_OTLP_ENDPOINT}/v1/traces`, {
      resourceSpans: [
        resourceSpans('service-x', { traceId, spanId: '3333333333333333', name: 'get /api/greeting', kind: 2, startTimeUnixNano: String(now), endTimeUnixNano: String(now + 1_000_000n) }),
        resourceSpans('service-z', { traceId, spanId: '4444444444444444', parentSpanId: '3333333333333333', name: 'consume', kind: 5, startTimeUnixNano: String(now), endTimeUnixNano: String(now + 500_000n) }),
      ],
    });
    expect(status).toBe(200);
    const spans = await jaeger.waitForTrace(traceId, (s) => s.length === 2, 5_000);
    expect(spans.map((s) => ({ service: s.localEndpoint.serviceName, kind: s.kind, id: s.id, parent: s.parentId })).sort((a, b) => a.id.localeCompare(b.id))).toEqual([
      { service: 'service-x', kind: 'SERVER', id: '3333333333333333', parent: undefined },
      { service: 'service-z', kind: 'CONSUMER', id: '4444444444444444', parent: '3333333333333333' },
    ]);
  });
});
