/**
 * Listens on a port with Bun's server, or with node:http when the Node bundle runs. `stop` stops accepting connections and
 * resolves once in-flight requests have been answered.
 *
 * Under Node this is a small adapter of our own rather than @elysiajs/node: measured on this 2-core machine (shared/reference/
 * stack-notes.md), a trivial JSON route served 34k req/s through @elysiajs/node and 42-46k through plain node:http, and its
 * `app.stop()` throws "Elysia isn't running", so a graceful stop would need the server handle anyway.
 */
import { createServer, type IncomingMessage } from 'node:http';
import { Readable } from 'node:stream';
import { isAddressInUse as inUse, PortInUseError } from '../serving/start-errors';
import type { Handler } from './app';

export interface Listening {
  port: number;
  stop(): Promise<void>;
}

interface BunLike {
  serve(options: {
    port: number;
    hostname?: string;
    idleTimeout?: number;
    fetch: (request: Request) => Promise<Response>;
  }): { port: number; stop(closeActive?: boolean): Promise<void> | void };
}

export interface ListenOptions {
  port: number;
  hostname?: string;
  /** The longest a request may take to answer (the upstream timeout): idle connections must outlive it. */
  answerWithinMs: number;
}

export async function listen(handle: Handler, { port, hostname = '0.0.0.0', answerWithinMs }: ListenOptions): Promise<Listening> {
  // Above the upstream timeout: a keep-alive connection must not be cut while a slow fan-out is still answering.
  const idleSeconds = Math.max(60, Math.ceil(answerWithinMs / 1000) + 5);
  const bun = (globalThis as { Bun?: BunLike }).Bun;
  if (bun) {
    let server: ReturnType<BunLike['serve']>;
    try {
      server = bun.serve({ port, hostname, idleTimeout: Math.min(idleSeconds, 255), fetch: handle });
    } catch (err) {
      throw inUse(err) ? new PortInUseError(port, hostname) : err;
    }
    return { port: server.port, stop: async () => void (await server.stop(false)) };
  }
  return listenNode(handle, port, hostname, idleSeconds);
}

function listenNode(handle: Handler, port: number, hostname: string, idleSeconds: number): Promise<Listening> {
  let stopping = false;
  const server = createServer(async (req, res) => {
    try {
      const response = await handle(toRequest(req));
      // Once stopping, every answer closes its connection: callers keep connections alive, and close() waits for all of them.
      if (stopping) response.headers.set('connection', 'close');
      res.writeHead(response.status, [...response.headers].flat());
      if (response.body) for await (const chunk of Readable.fromWeb(response.body as never)) res.write(chunk);
      res.end();
    } catch (err) {
      if (res.headersSent) res.destroy(err as Error);
      else res.writeHead(500, { 'content-type': 'application/json' }).end('{"error":"internal error"}');
    }
  });
  server.keepAliveTimeout = idleSeconds * 1000;
  return new Promise((resolve, reject) => {
    server.once('error', (err) => reject(inUse(err) ? new PortInUseError(port, hostname) : err));
    server.listen(port, hostname, () => {
      const address = server.address();
      resolve({
        port: typeof address === 'object' && address ? address.port : port,
        stop: () =>
          new Promise<void>((done) => {
            stopping = true;
            server.close(() => done());
            server.closeIdleConnections();
          }),
      });
    });
  });
}

/** The path and query of a request target: origin-form as is, absolute-form (`http://host/path`) cut to its path. */
function requestPath(target: string | undefined): string {
  if (!target || target === '*') return '/';
  if (target.startsWith('/')) return target;
  const afterAuthority = /^[a-z][a-z0-9+.-]*:\/\/[^/?#]*(.*)$/i.exec(target)?.[1];
  return afterAuthority === undefined ? '/' : afterAuthority.startsWith('/') ? afterAuthority : `/${afterAuthority}`;
}

function toRequest(req: IncomingMessage): Request {
  const headers = new Headers();
  for (const [name, value] of Object.entries(req.headers)) {
    if (Array.isArray(value)) for (const v of value) headers.append(name, v);
    else if (value !== undefined) headers.set(name, value);
  }
  const hasBody = req.method !== 'GET' && req.method !== 'HEAD';
  // The URL is built from the request target alone, never from the Host header: a client's `Host: a/api/greeting?` must not
  // move the path, and `Host: [::1` must not make the URL unparsable. The Host header itself is passed on with the others.
  return new Request(`http://localhost${requestPath(req.url)}`, {
    method: req.method,
    headers,
    body: hasBody ? (Readable.toWeb(req) as unknown as ReadableStream) : undefined,
    // @ts-expect-error Node's fetch needs duplex for a streamed body; the DOM types do not know it.
    duplex: 'half',
  });
}
