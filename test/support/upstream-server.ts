/** A real HTTP server standing in for an upstream role, answering what a test tells it to (a status, a body, a delay). */
export interface UpstreamBehaviour {
  status?: number;
  body?: unknown;
  rawBody?: string;
  delayMs?: number;
  /** Send the body in chunks without a Content-Length (chunked transfer encoding). */
  chunked?: boolean;
}

export function upstreamServer(initial: UpstreamBehaviour) {
  let behaviour = initial;
  let calls = 0;
  const server = Bun.serve({
    port: 0,
    hostname: '127.0.0.1',
    async fetch(request) {
      calls++;
      const seen = Object.fromEntries(request.headers);
      if (behaviour.delayMs) await Bun.sleep(behaviour.delayMs);
      const body = behaviour.rawBody ?? JSON.stringify(typeof behaviour.body === 'function' ? behaviour.body(seen) : behaviour.body ?? []);
      const headers = { 'content-type': 'application/json' };
      if (!behaviour.chunked) return new Response(body, { status: behaviour.status ?? 200, headers });
      const bytes = new TextEncoder().encode(body);
      const stream = new ReadableStream({
        pull(controller) {
          for (let i = 0; i < bytes.length; i += 64 * 1024) controller.enqueue(bytes.subarray(i, i + 64 * 1024));
          controller.close();
        },
      });
      return new Response(stream, { status: behaviour.status ?? 200, headers });
    },
  });
  return {
    url: `http://127.0.0.1:${server.port}`,
    set(next: UpstreamBehaviour) {
      behaviour = next;
    },
    get calls() {
      return calls;
    },
    stop: () => server.stop(true),
  };
}
