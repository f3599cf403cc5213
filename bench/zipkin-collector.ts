/**
 * A stand-in for a Zipkin collector, run as its own process so its CPU is measured apart from the driver's and the roles':
 * accepts `POST /api/v2/spans` (a JSON array of spans, what the Zipkin exporter sends), counts spans and trace ids, and
 * answers `GET /count`. It stores nothing else, so it costs the roles what a real collector's ingestion endpoint would.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { gunzipSync } from 'node:zlib';

export interface SpanCount {
  spans: number;
  traces: number;
  posts: number;
  rejected: number;
}

function serve(): void {
  const count: SpanCount = { spans: 0, traces: 0, posts: 0, rejected: 0 };
  const traceIds = new Set<string>();
  const server = Bun.serve({
    port: 0,
    hostname: '127.0.0.1',
    async fetch(request) {
      const { pathname } = new URL(request.url);
      if (request.method === 'GET' && pathname === '/count') return Response.json(count);
      if (request.method !== 'POST' || pathname !== '/api/v2/spans') return new Response('not found', { status: 404 });
      count.posts++;
      try {
        let body = new Uint8Array(await request.arrayBuffer());
        if (request.headers.get('content-encoding') === 'gzip') body = gunzipSync(body);
        const spans = JSON.parse(new TextDecoder().decode(body)) as { traceId?: string }[];
        if (!Array.isArray(spans)) throw new Error('not an array');
        count.spans += spans.length;
        for (const span of spans) if (span.traceId) traceIds.add(span.traceId);
        count.traces = traceIds.size;
        return new Response(null, { status: 202 });
      } catch {
        count.rejected++;
        return new Response('bad spans', { status: 400 });
      }
    },
  });
  process.stdout.write(`${JSON.stringify({ port: server.port })}\n`);
  process.on('SIGTERM', () => {
    void server.stop(true);
    process.exit(0);
  });
}

export interface Collector {
  /** What ZIPKIN_URL should be for the roles. */
  spansUrl: string;
  pid: number;
  count(): Promise<SpanCount>;
  /** Waits until no new span arrived for `quietMs` (exporters batch), or `timeoutMs` passed; returns the final count. */
  settle(quietMs: number, timeoutMs: number): Promise<SpanCount>;
  stop(): Promise<void>;
}

export async function startCollector(): Promise<Collector> {
  const child: ChildProcess = spawn(process.execPath, [import.meta.path], { stdio: ['ignore', 'pipe', 'inherit'] });
  const port = await new Promise<number>((resolve, reject) => {
    let out = '';
    child.once('exit', (code) => reject(new Error(`the span collector exited (${code}) before listening`)));
    child.stdout!.on('data', (chunk: Buffer) => {
      out += chunk.toString();
      const line = out.split('\n')[0];
      if (out.includes('\n') && line) resolve((JSON.parse(line) as { port: number }).port);
    });
  });
  const base = `http://127.0.0.1:${port}`;
  const count = async () => (await (await fetch(`${base}/count`)).json()) as SpanCount;
  return {
    spansUrl: `${base}/api/v2/spans`,
    pid: child.pid!,
    count,
    async settle(quietMs, timeoutMs) {
      const deadline = Date.now() + timeoutMs;
      let last = await count();
      let stableSince = Date.now();
      while (Date.now() < deadline) {
        await Bun.sleep(250);
        const now = await count();
        if (now.spans !== last.spans) stableSince = Date.now();
        else if (Date.now() - stableSince >= quietMs) return now;
        last = now;
      }
      return last;
    },
    async stop() {
      const exited = new Promise((r) => child.once('exit', r));
      child.kill('SIGTERM');
      await exited;
    },
  };
}

if (import.meta.main) serve();
