/**
 * The server of the Node bundle: node:http in front of the same fetch-style handler Bun serves (serve.ts says why not
 * @elysiajs/node).
 */
import { createServer, type IncomingMessage } from 'node:http';
import { Readable } from 'node:stream';
import { isAddressInUse as inUse, PortInUseError } from '../serving/start-errors';
import type { Handler } from './app';
import { HANDLER_FAILED, type Listening } from './serve';

export function listenNode(handle: Handler, port: number, hostname: string, idleSeconds: number, onHandlerError?: (err: unknown) => void): Promise<Listening> {
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
      onHandlerError?.(err);
      if (res.headersSent) res.destroy(err as Error);
      else res.writeHead(HANDLER_FAILED.status, { 'content-type': HANDLER_FAILED.contentType }).end(HANDLER_FAILED.body);
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
