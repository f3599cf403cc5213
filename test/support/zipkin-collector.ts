/**
 * A Zipkin v2 collector stand-in, for the faults a real collector cannot be made to stage: a real HTTP server on a free port
 * that accepts `POST /api/v2/spans` (a JSON array of spans, as Zipkin and Jaeger's Zipkin endpoint take it) and keeps what
 * arrives, or refuses every batch with a given status while told to. Traces of a working platform are read back from a real
 * Jaeger (test/support/jaeger.ts); `ZipkinSpan` is the span model both give the trace checks.
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

/** `port` 0 takes a free one; a test that stopped a collector passes the old port to bring it back at the same address. */
export function zipkinCollector({ port = 0 }: { port?: number } = {}) {
  const path = '/api/v2/spans';
  const spans: ZipkinSpan[] = [];
  let posts = 0;
  let refusing: number | undefined;
  const server = Bun.serve({
    port,
    hostname: '127.0.0.1',
    async fetch(request) {
      const { pathname } = new URL(request.url);
      if (pathname !== path) return new Response('not found', { status: 404 });
      if (request.method !== 'POST') return new Response('method not allowed', { status: 405 });
      if (!request.headers.get('content-type')?.startsWith('application/json')) return new Response('want JSON', { status: 415 });
      if (refusing !== undefined) return new Response('refused by the test', { status: refusing });
      const body = (await request.json()) as ZipkinSpan[];
      if (!Array.isArray(body)) return new Response('want a JSON array of spans', { status: 400 });
      posts++;
      spans.push(...body);
      return new Response(null, { status: 202 });
    },
  });
  return {
    url: `http://127.0.0.1:${server.port}${path}`,
    port: server.port,
    spans,
    get posts() {
      return posts;
    },
    /** Refuses every batch from now on with `status` (a 5xx, a 429...), or accepts again when called without one. */
    refuse(status?: number) {
      refusing = status;
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
