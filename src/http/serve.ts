/**
 * Listens on a port with Bun's server, or with node:http when the Node bundle runs. `stop` stops accepting connections and
 * resolves once in-flight requests have been answered.
 *
 * Under Node this is a small adapter of our own rather than @elysiajs/node: measured on this 2-core machine (shared/reference/
 * stack-notes.md), a trivial JSON route served 34k req/s through @elysiajs/node and 42-46k through plain node:http, and its
 * `app.stop()` throws "Elysia isn't running", so a graceful stop would need the server handle anyway.
 */
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
  // node:http and node:stream load only here: imported statically, Bun would load both at every start for nothing.
  const { listenNode } = await import('./node-serve');
  return listenNode(handle, port, hostname, idleSeconds);
}
