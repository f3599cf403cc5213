/**
 * The seven headers the original forwards on every hop, and W3C Trace Context's two. Envoy starts or continues a trace with
 * them (its Zipkin tracer with B3, its OpenTelemetry tracer with traceparent); an app that does not copy them from its inbound
 * request to its outbound calls breaks the trace into pieces.
 *
 * Each has a shape it must have to be forwarded. A value outside it is dropped (x-request-id is replaced by a fresh one) and
 * named in the answer's `X-Ignored-Headers`: forwarded as it came, a DEL byte or a tab made every upstream refuse the call,
 * and one request from anyone raised false upstream-failure alerts on the whole chain.
 */
export const TRACING_HEADERS = [
  'x-request-id',
  'x-b3-traceid',
  'x-b3-spanid',
  'x-b3-parentspanid',
  'x-b3-sampled',
  'x-b3-flags',
  'x-ot-span-context',
  'traceparent',
  'tracestate',
] as const;

export type TracingHeader = (typeof TRACING_HEADERS)[number];

/** Reads a request's headers or metadata (a `Headers` is one). */
export interface HeaderReader {
  get(name: string): string | null | undefined;
}

/** Reads and rewrites them: malformed values are dropped, a missing request id is added. */
export interface HeaderBag extends HeaderReader {
  set(name: string, value: string): void;
  delete(name: string): void;
}

/** Printable ASCII only: what every HTTP implementation and gRPC metadata accept in a header value. */
const PRINTABLE = /^[\x21-\x7e](?:[\x20-\x7e]*[\x21-\x7e])?$/;
const HEX16 = /^[0-9a-f]{16}$/i;

const SHAPES: Record<TracingHeader, { test: (v: string) => boolean; expected: string }> = {
  'x-request-id': { test: (v) => v.length <= 128 && PRINTABLE.test(v), expected: 'up to 128 printable ASCII characters' },
  'x-b3-traceid': { test: (v) => v.length === 32 ? /^[0-9a-f]{32}$/i.test(v) : HEX16.test(v), expected: '16 or 32 hex digits' },
  'x-b3-spanid': { test: (v) => HEX16.test(v), expected: '16 hex digits' },
  'x-b3-parentspanid': { test: (v) => HEX16.test(v), expected: '16 hex digits' },
  'x-b3-sampled': { test: (v) => /^(0|1|true|false|d)$/i.test(v), expected: '0, 1, true or false' },
  'x-b3-flags': { test: (v) => v === '0' || v === '1', expected: '0 or 1' },
  'x-ot-span-context': { test: (v) => v.length <= 512 && PRINTABLE.test(v), expected: 'up to 512 printable ASCII characters' },
  // Version 00 is exactly 55 characters; a later version may append fields, hence the tail (and the bound).
  traceparent: {
    test: (v) => v.length <= 128 && /^[0-9a-f]{2}-[0-9a-f]{32}-[0-9a-f]{16}-[0-9a-f]{2}(?:-[\x21-\x7e]*)?$/.test(v),
    expected: 'version-traceid-parentid-flags in lower-case hex (W3C Trace Context)',
  },
  // W3C asks vendors to propagate at least 512 characters; beyond that the whole header is dropped rather than cut mid-entry.
  tracestate: { test: (v) => v.length <= 512 && PRINTABLE.test(v), expected: 'up to 512 printable ASCII characters' },
};

export interface IgnoredHeader {
  name: TracingHeader;
  reason: string;
}


/**
 * The tracing headers of a request in one pass (this runs on every request): the well-formed ones, to forward, and the
 * malformed ones, deleted from the request and named with why.
 */
export function takeTracingHeaders(headers: HeaderBag): { forward: Record<string, string>; ignored: IgnoredHeader[] } {
  const forward: Record<string, string> = {};
  let ignored: IgnoredHeader[] | undefined;
  for (const name of TRACING_HEADERS) {
    const value = headers.get(name);
    if (!value) continue;
    if (SHAPES[name].test(value)) {
      forward[name] = value;
      continue;
    }
    headers.delete(name);
    (ignored ??= []).push({ name, reason: `not ${SHAPES[name].expected}` });
  }
  return { forward, ignored: ignored ?? NONE };
}

const NONE: IgnoredHeader[] = [];
