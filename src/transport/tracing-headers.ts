/**
 * The seven headers the original forwards on every hop. Envoy starts or continues a trace with them; an app that does not
 * copy them from its inbound request to its outbound calls breaks the trace into pieces.
 */
export const TRACING_HEADERS = [
  'x-request-id',
  'x-b3-traceid',
  'x-b3-spanid',
  'x-b3-parentspanid',
  'x-b3-sampled',
  'x-b3-flags',
  'x-ot-span-context',
] as const;

/** The tracing headers present on a request, lower-cased, empty values dropped. */
export function pickTracingHeaders(headers: Headers): Record<string, string> {
  const picked: Record<string, string> = {};
  for (const name of TRACING_HEADERS) {
    const value = headers.get(name);
    if (value) picked[name] = value;
  }
  return picked;
}
