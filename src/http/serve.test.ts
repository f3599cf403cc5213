/**
 * A handler that throws, which the app's is written never to do, still gets the answer every other error gets: a JSON 500
 * that names nothing, from Bun's server and from the Node bundle's (node-serve.ts, run here on Bun's node:http), never
 * Bun's development page with the error's message and stack.
 */
import { describe, expect, test } from 'bun:test';
import type { Handler } from './app';
import { listenNode } from './node-serve';
import { HANDLER_FAILED, listen, type Listening } from './serve';

const SECRET = 'mongodb://user:hunter2@db.internal/greetings';
const throwing: Record<string, Handler> = {
  'throws at once': () => {
    throw new Error(`cannot reach ${SECRET}`);
  },
  rejects: async () => {
    await Promise.resolve();
    throw new TypeError(`cannot reach ${SECRET}`);
  },
};

const servers: Record<string, (handle: Handler, told: (err: unknown) => void) => Promise<Listening>> = {
  "Bun's server": (handle, told) => listen(handle, { port: 0, hostname: '127.0.0.1', answerWithinMs: 1000, onHandlerError: told }),
  "the Node bundle's server": (handle, told) => listenNode(handle, 0, '127.0.0.1', 60, told),
};

describe('a handler that throws', () => {
  for (const [server, start] of Object.entries(servers))
    for (const [how, handle] of Object.entries(throwing))
      test(`${server}: one that ${how} is answered with a JSON 500 naming nothing, and the error is passed on to be logged`, async () => {
        const told: unknown[] = [];
        const listening = await start(handle, (err) => told.push(err));
        try {
          const response = await fetch(`http://127.0.0.1:${listening.port}/api/greeting`);
          const body = await response.text();
          expect({ status: response.status, type: response.headers.get('content-type'), body }).toEqual({
            status: HANDLER_FAILED.status,
            type: HANDLER_FAILED.contentType,
            body: HANDLER_FAILED.body,
          });
          expect(JSON.parse(body)).toEqual({ error: 'internal error' });
          // The server keeps serving.
          expect((await fetch(`http://127.0.0.1:${listening.port}/`)).status).toBe(500);
          expect(told.map((err) => (err as Error).message)).toEqual([`cannot reach ${SECRET}`, `cannot reach ${SECRET}`]);
        } finally {
          await listening.stop();
        }
      });
});
