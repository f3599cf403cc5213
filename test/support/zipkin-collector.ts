/**
 * A Zipkin v2 collector stand-in: a real HTTP server on a free port that accepts `POST /api/v2/spans` (a JSON array of
 * spans, as Zipkin and Jaeger's Zipkin endpoint take it) and keeps what arrives, so tests can read the traces back.
 */
export interface ZipkinSpan {
  traceId: string;
  id: string;
  parentId?: string;
  name: string;
  kind?: 'CLIENT' | 'SERVER' | 'PRODUCER' | 'CONSUMER';
  timestamp: number;
  duration: number;
  localEndpoint: { serviceName: string };
  tags?: Record<string, string>;
}

/** `path` is where spans are accepted: Zipkin's own `/api/v2/spans` unless a test maps a cluster address onto it. */
export function zipkinCollector(path = '/api/v2/spans') {
  const spans: ZipkinSpan[] = [];
  let posts = 0;
  const server = Bun.serve({
    port: 0,
    hostname: '127.0.0.1',
    async fetch(request) {
      const { pathname } = new URL(request.url);
      if (pathname !== path) return new Response('not found', { status: 404 });
      if (request.method !== 'POST') return new Response('method not allowed', { status: 405 });
      if (!request.headers.get('content-type')?.startsWith('application/json')) return new Response('want JSON', { status: 415 });
      const body = (await request.json()) as ZipkinSpan[];
      if (!Array.isArray(body)) return new Response('want a JSON array of spans', { status: 400 });
      posts++;
      spans.push(...body);
      return new Response(null, { status: 202 });
    },
  });
  return {
    url: `http://127.0.0.1:${server.port}${path}`,
    spans,
    get posts() {
      return posts;
    },
    trace: (traceId: string) => spans.filter((s) => s.traceId === traceId),
    /** Waits until `done` holds for the spans received so far (spans arrive in batches, about once a second). */
    async waitFor(done: (spans: ZipkinSpan[]) => boolean, timeoutMs = 5000): Promise<void> {
      const deadline = Date.now() + timeoutMs;
      while (!done(spans)) {
        if (Date.now() > deadline) return;
        await Bun.sleep(50);
      }
    },
    stop: () => server.stop(true),
  };
}

export type ZipkinCollector = ReturnType<typeof zipkinCollector>;
