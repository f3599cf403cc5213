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
    development?: boolean;
    fetch: (request: Request) => Promise<Response>;
    error?: (err: Error) => Response;
  }): { port: number; stop(closeActive?: boolean): Promise<void> | void };
}

/**
 * What a request gets if the handler throws, which it is written never to do: a JSON 500 like every other error, naming
 * nothing. Bun's own answer would be its development page (the default unless NODE_ENV=production, which no manifest sets),
 * an HTML page of the error's message and stack.
 */
export const HANDLER_FAILED = { status: 500, contentType: 'application/json', body: '{"error":"internal error"}' } as const;

export interface ListenOptions {
  port: number;
  hostname?: string;
  /** The longest a request may take to answer (the upstream timeout): idle connections must outlive it. */
  answerWithinMs: number;
  /** Told of an error the handler threw (the caller logs it), before the request gets HANDLER_FAILED. */
  onHandlerError?: (err: unknown) => void;
}

export async function listen(handle: Handler, { port, hostname = '0.0.0.0', answerWithinMs, onHandlerError }: ListenOptions): Promise<Listening> {
  // Above the upstream timeout: a keep-alive connection must not be cut while a slow fan-out is still answering.
  const idleSeconds = Math.max(60, Math.ceil(answerWithinMs / 1000) + 5);
  const bun = (globalThis as { Bun?: BunLike }).Bun;
  if (bun) {
    let server: ReturnType<BunLike['serve']>;
    try {
      const error = (err: Error) => {
        onHandlerError?.(err);
        return new Response(HANDLER_FAILED.body, { status: HANDLER_FAILED.status, headers: { 'content-type': HANDLER_FAILED.contentType } });
      };
      server = bun.serve({ port, hostname, idleTimeout: Math.min(idleSeconds, 255), development: false, fetch: handle, error });
    } catch (err) {
      throw inUse(err) ? new PortInUseError(port, hostname) : err;
    }
    return { port: server.port, stop: async () => void (await server.stop(false)) };
  }
  // node:http and node:stream load only here: imported statically, Bun would load both at every start for nothing.
  const { listenNode } = await import('./node-serve');
  return listenNode(handle, port, hostname, idleSeconds, onHandlerError);
}
