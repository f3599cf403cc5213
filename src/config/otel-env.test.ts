/** The standard OTEL_* variables, as readEnv reads them: what each turns on, and every bad value refused without its secret. */
import { describe, expect, test } from 'bun:test';
import { readEnv } from './env';
import type { ConfigError } from './config-error';

const problems = (env: Record<string, string>) => {
  try {
    readEnv(env);
  } catch (err) {
    return (err as ConfigError).problems.map((p) => `${p.path}: ${p.reason}`);
  }
  return [];
};

describe('OTLP exporter settings', () => {
  test('unset: no OTLP, and the propagators are W3C then B3', () => {
    const env = readEnv({});
    expect(env.otlp).toBeUndefined();
    expect(env.propagators).toEqual(['tracecontext', 'b3multi']);
  });

  test('OTEL_EXPORTER_OTLP_ENDPOINT is a base: traces go to its /v1/traces; the traces endpoint is used as it is', () => {
    expect(readEnv({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318' }).otlp?.url).toBe('http://collector:4318/v1/traces');
    expect(readEnv({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318/prefix/' }).otlp?.url).toBe('http://collector:4318/prefix/v1/traces');
    const both = readEnv({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318', OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: 'https://traces.example.com/ingest' });
    expect(both.otlp?.url).toBe('https://traces.example.com/ingest');
  });

  test('headers: percent-decoded, the signal-specific ones over the general ones', () => {
    const env = readEnv({
      OTEL_EXPORTER_OTLP_ENDPOINT: 'http://c:4318',
      OTEL_EXPORTER_OTLP_HEADERS: 'authorization=Bearer%20general,x-tenant=a',
      OTEL_EXPORTER_OTLP_TRACES_HEADERS: 'authorization=Bearer%20traces',
    });
    expect(env.otlp?.headers).toEqual({ authorization: 'Bearer traces', 'x-tenant': 'a' });
  });

  test('a malformed header entry is named by position, and its value (the token) never appears', () => {
    const found = problems({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://c:4318', OTEL_EXPORTER_OTLP_HEADERS: 'x-tenant=a,Bearer s3cr3t-t0ken,api-key=%zz-s3cr3t' });
    expect(found).toEqual([
      'OTEL_EXPORTER_OTLP_HEADERS: entry 2 is not key=value with a key of letters, digits and -._~',
      'OTEL_EXPORTER_OTLP_HEADERS: the value of entry 3 (api-key) is not valid percent-encoding',
    ]);
    expect(found.join()).not.toContain('s3cr3t');
    expect(problems({ OTEL_EXPORTER_OTLP_HEADERS: 'x=a%0d%0aInjected: 1' })).toEqual(['OTEL_EXPORTER_OTLP_HEADERS: the value of entry 1 (x) holds characters an HTTP header cannot carry']);
  });

  test('timeout and compression, the traces variable over the general one; bad values refused', () => {
    const env = readEnv({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://c:4318', OTEL_EXPORTER_OTLP_TIMEOUT: '5000', OTEL_EXPORTER_OTLP_TRACES_TIMEOUT: '2500', OTEL_EXPORTER_OTLP_COMPRESSION: 'gzip' });
    expect(env.otlp).toMatchObject({ timeoutMs: 2500, compression: 'gzip' });
    expect(problems({ OTEL_EXPORTER_OTLP_TIMEOUT: '10s' })).toEqual(["OTEL_EXPORTER_OTLP_TIMEOUT: '10s' is not a whole number of milliseconds from 1 to 600000"]);
    expect(problems({ OTEL_EXPORTER_OTLP_COMPRESSION: 'zstd' })).toEqual(["OTEL_EXPORTER_OTLP_COMPRESSION: 'zstd' is not gzip or none"]);
  });

  test('only http/protobuf: another protocol is refused, not silently replaced', () => {
    expect(readEnv({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://c:4318', OTEL_EXPORTER_OTLP_PROTOCOL: 'http/protobuf' }).otlp).toBeDefined();
    expect(problems({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://c:4317', OTEL_EXPORTER_OTLP_TRACES_PROTOCOL: 'grpc' })).toEqual([
      "OTEL_EXPORTER_OTLP_TRACES_PROTOCOL: 'grpc' is not supported: greeting-mesh exports OTLP over HTTP with protobuf (http/protobuf)",
    ]);
  });

  test('an endpoint that is not an http(s) URL is refused without echoing it (it may carry credentials)', () => {
    const found = problems({ OTEL_EXPORTER_OTLP_ENDPOINT: 'collector:4318', OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: 'grpc://user:s3cret@c:4317' });
    expect(found).toEqual(["OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: scheme 'grpc:' is not one of http:, https:"]);
    expect(problems({ OTEL_EXPORTER_OTLP_ENDPOINT: 'collector:4318' })).toEqual(['OTEL_EXPORTER_OTLP_ENDPOINT: is not a valid URL']);
    expect(found.join()).not.toContain('s3cret');
  });
});

describe('which exporters', () => {
  test('unset OTEL_TRACES_EXPORTER: each exporter whose endpoint is set, both at once included', () => {
    const env = readEnv({ ZIPKIN_URL: 'http://z:9411/api/v2/spans', OTEL_EXPORTER_OTLP_ENDPOINT: 'http://c:4318' });
    expect([env.zipkinUrl, env.otlp?.url]).toEqual(['http://z:9411/api/v2/spans', 'http://c:4318/v1/traces']);
  });

  test('a list picks among them; a listed exporter without an endpoint gets the SDK default; none turns tracing off', () => {
    const both = { ZIPKIN_URL: 'http://z:9411/api/v2/spans', OTEL_EXPORTER_OTLP_ENDPOINT: 'http://c:4318' };
    expect(readEnv({ ...both, OTEL_TRACES_EXPORTER: 'otlp' })).toMatchObject({ zipkinUrl: undefined, otlp: { url: 'http://c:4318/v1/traces' } });
    expect(readEnv({ ...both, OTEL_TRACES_EXPORTER: 'zipkin' })).toMatchObject({ zipkinUrl: both.ZIPKIN_URL, otlp: undefined });
    expect(readEnv({ OTEL_TRACES_EXPORTER: 'otlp,zipkin' })).toMatchObject({
      zipkinUrl: 'http://localhost:9411/api/v2/spans',
      otlp: { url: 'http://localhost:4318/v1/traces' },
    });
    expect(readEnv({ ...both, OTEL_TRACES_EXPORTER: 'none' })).toMatchObject({ zipkinUrl: undefined, otlp: undefined });
    expect(readEnv({ ...both, OTEL_SDK_DISABLED: 'true' })).toMatchObject({ zipkinUrl: undefined, otlp: undefined });
    expect(problems({ OTEL_TRACES_EXPORTER: 'console' })).toEqual(["OTEL_TRACES_EXPORTER: 'console' is not one of otlp, zipkin, none"]);
    expect(problems({ OTEL_TRACES_EXPORTER: 'none,otlp' })).toEqual(["OTEL_TRACES_EXPORTER: 'none' cannot be combined with an exporter"]);
  });

  test('OTEL_EXPORTER_ZIPKIN_ENDPOINT is the standard name of ZIPKIN_URL; both set, they must agree', () => {
    expect(readEnv({ OTEL_EXPORTER_ZIPKIN_ENDPOINT: 'http://z:9411/api/v2/spans' }).zipkinUrl).toBe('http://z:9411/api/v2/spans');
    expect(problems({ ZIPKIN_URL: 'http://a:9411/api/v2/spans', OTEL_EXPORTER_ZIPKIN_ENDPOINT: 'http://b:9411/api/v2/spans' })).toEqual([
      'OTEL_EXPORTER_ZIPKIN_ENDPOINT: differs from ZIPKIN_URL: set one of them',
    ]);
    expect(problems({ ZIPKIN_URL: 'ftp://z/api' })).toEqual(["ZIPKIN_URL: scheme 'ftp:' is not one of http:, https:"]);
  });
});

describe('sampling and propagation', () => {
  test('the parent-based samplers set the ratio where a trace starts; the others are refused with the reason', () => {
    expect(readEnv({ OTEL_TRACES_SAMPLER: 'parentbased_traceidratio', OTEL_TRACES_SAMPLER_ARG: '0.25' }).traceSampleRatio).toBe(0.25);
    expect(readEnv({ OTEL_TRACES_SAMPLER: 'parentbased_always_off' }).traceSampleRatio).toBe(0);
    expect(readEnv({ OTEL_TRACES_SAMPLER: 'parentbased_always_on' }).traceSampleRatio).toBe(1);
    expect(problems({ OTEL_TRACES_SAMPLER: 'traceidratio', OTEL_TRACES_SAMPLER_ARG: '0.1' })).toEqual([
      "OTEL_TRACES_SAMPLER: 'traceidratio' ignores the caller's decision and breaks the mesh's traces apart: use parentbased_traceidratio",
    ]);
    expect(problems({ OTEL_TRACES_SAMPLER: 'parentbased_traceidratio', OTEL_TRACES_SAMPLER_ARG: '2' })).toEqual(["OTEL_TRACES_SAMPLER_ARG: '2' is not a number from 0 to 1"]);
    expect(problems({ OTEL_TRACES_SAMPLER: 'parentbased_always_on', TRACE_SAMPLE_RATIO: '0.5' })).toEqual(['OTEL_TRACES_SAMPLER: is set beside TRACE_SAMPLE_RATIO: set one of them']);
  });

  test('OTEL_PROPAGATORS: the order is kept, baggage is accepted and changes nothing, the rest is refused', () => {
    expect(readEnv({ OTEL_PROPAGATORS: 'b3multi, tracecontext' }).propagators).toEqual(['b3multi', 'tracecontext']);
    expect(readEnv({ OTEL_PROPAGATORS: 'tracecontext,baggage' }).propagators).toEqual(['tracecontext']);
    expect(problems({ OTEL_PROPAGATORS: 'b3' })).toEqual(["OTEL_PROPAGATORS: 'b3' (the single `b3` header) is not supported: Envoy and Istio use b3multi"]);
    expect(problems({ OTEL_PROPAGATORS: 'xray' })).toEqual(["OTEL_PROPAGATORS: 'xray' is not one of tracecontext, b3multi, baggage"]);
    expect(problems({ OTEL_PROPAGATORS: 'baggage' })).toEqual(['OTEL_PROPAGATORS: lists no trace context format: add tracecontext and/or b3multi']);
  });

  test("resource attributes are added; a service name from the environment is reported, not taken (it is the role's)", () => {
    const env = readEnv({ OTEL_RESOURCE_ATTRIBUTES: 'k8s.pod.name=service-b-1,service.name=other,deployment.environment.name=dev%20one', OTEL_SERVICE_NAME: 'other' });
    expect(env.resourceAttributes).toEqual({ 'k8s.pod.name': 'service-b-1', 'deployment.environment.name': 'dev one' });
    expect(env.notHonoured).toEqual(['OTEL_SERVICE_NAME', 'OTEL_RESOURCE_ATTRIBUTES service.name']);
  });
});
