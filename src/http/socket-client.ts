/**
 * Calls an upstream's `GET /api/greeting` over HTTP/1.1 on Bun's own TCP sockets, which run on the event loop of the role:
 * the transport under Bun for `http://` upstreams. Bun's fetch does its socket work on a thread of its own (`HTTP Client` in
 * the bench's CPU split) and hands every request and answer across threads; measured on this 2-core machine, a call cost
 * about 35 µs of CPU through fetch and 3 µs through a socket here (a server in the same process answering both; `npm run
 * bench` shows what it does to the chain).
 *
 * Connections are kept alive and reused, per origin, most recently used first; an idle one is closed after IDLE_SECONDS, and
 * one that the upstream closed while it lay idle is retried once on a new connection (a GET is safe to repeat, and nothing of
 * the answer had arrived). Each call has its own deadline, so one slow upstream cannot hold its siblings' answers. The answer
 * is read by http1-answer.ts; what it refuses fails the call with its reason. `https://` upstreams go through fetch.
 */
import type { Socket, SocketHandler } from 'bun';
import { requestFailed, timedOut, tooLarge } from '../transport/failures';
import type { UpstreamAnswer, UpstreamCall, UpstreamTransport } from '../transport/upstream';
import { Http1AnswerReader, type Outcome } from './http1-answer';
import { httpConventions, readAnswer } from './wire';

/** An idle connection is closed after this long: an upstream that went away (scaled down, rescheduled) leaves nothing open. */
const IDLE_SECONDS = 30;
/** Idle connections kept per origin; beyond these, a connection is closed once its call is answered. */
const MAX_IDLE_PER_ORIGIN = 64;

/** Where an upstream URL points, worked out once per URL. */
interface Target {
  origin: Origin;
  /** The request line and the Host field, the start of every request to it. */
  head: string;
}

interface Origin {
  hostname: string;
  port: number;
  idle: Connection[];
}

interface Exchange {
  reader: Http1AnswerReader;
  /** A connection taken from the pool: if it closes before any byte of the answer, the call is retried on a new one. */
  reused: boolean;
  settle(outcome: Outcome, retryable: boolean): void;
}

interface Connection {
  socket: Socket<Connection>;
  origin: Origin;
  exchange?: Exchange;
  /** Request bytes the socket did not take yet (written on `drain`). */
  unsent?: Uint8Array;
  closed: boolean;
}

const TOKEN = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;
const FIELD_VALUE = /^[\t\x20-\x7e\x80-\xff]*$/;
/** Framing and routing fields are this client's to write: a forwarded one would change what the request means. */
const OWN_FIELDS = new Set(['host', 'connection', 'content-length', 'transfer-encoding', 'upgrade', 'te', 'keep-alive']);

const utf8 = new TextDecoder();

/** The connection's part of an exchange is over: back to the pool if it can carry another request, else closed. */
function release(connection: Connection, reusable: boolean): void {
  connection.exchange = undefined;
  const { idle } = connection.origin;
  if (reusable && !connection.closed && idle.length < MAX_IDLE_PER_ORIGIN) {
    connection.socket.timeout(IDLE_SECONDS);
    idle.push(connection);
    return;
  }
  close(connection);
}

function close(connection: Connection): void {
  if (connection.closed) return;
  connection.closed = true;
  connection.socket.terminate();
}

function forget(connection: Connection): void {
  connection.closed = true;
  const { idle } = connection.origin;
  const at = idle.indexOf(connection);
  if (at !== -1) idle.splice(at, 1);
}

/** The connection ended or failed: the exchange on it, if any, ends with what was read or with the error. */
function lost(connection: Connection, error?: Error): void {
  forget(connection);
  const exchange = connection.exchange;
  if (!exchange) return;
  connection.exchange = undefined;
  const retryable = exchange.reused && !exchange.reader.started;
  exchange.settle(error ? { state: 'failed', reason: error.message } : exchange.reader.end(), retryable);
}

const HANDLERS: SocketHandler<Connection> = {
  data(socket, bytes) {
    const connection = socket.data;
    const exchange = connection.exchange;
    // Bytes nobody asked for (on an idle connection): the connection can no longer be trusted to frame an answer.
    if (!exchange) return close(connection);
    // Copied: the reader may keep them past this callback.
    const progress = exchange.reader.push(new Uint8Array(bytes));
    if (progress.state === 'more') return;
    release(connection, progress.state === 'done' && progress.answer.reusable);
    exchange.settle(progress, false);
  },
  drain(socket) {
    const connection = socket.data;
    if (connection.unsent) write(connection, connection.unsent);
  },
  end(socket) {
    lost(socket.data);
    socket.terminate();
  },
  close(socket, error) {
    lost(socket.data, error);
  },
  error(socket, error) {
    lost(socket.data, error);
  },
  timeout(socket) {
    // Only idle connections have a timeout set; a call's deadline is its own timer.
    if (!socket.data.exchange) close(socket.data);
  },
};

function write(connection: Connection, bytes: Uint8Array): void {
  const written = connection.socket.write(bytes);
  connection.unsent = written < bytes.length ? bytes.subarray(Math.max(0, written)) : undefined;
}

export class SocketClient implements UpstreamTransport {
  readonly describe = httpConventions.describe;
  readonly answerAttributes = httpConventions.answerAttributes;
  private readonly targets = new Map<string, Target>();
  private readonly origins = new Map<string, Origin>();

  /** `maxAnswerBytes`: an answer past this size is dropped as failed (config defaults.upstreamMaxAnswerBytes). */
  constructor(private readonly maxAnswerBytes: number) {}

  call({ upstream, headers, timeoutMs }: UpstreamCall): Promise<UpstreamAnswer> {
    const started = performance.now();
    const elapsed = () => performance.now() - started;
    let request: Uint8Array;
    let target: Target;
    try {
      target = this.targetOf(upstream.url);
      request = requestBytes(target.head, headers);
    } catch (err) {
      return Promise.resolve(requestFailed(err, elapsed()));
    }
    const { origin } = target;
    return new Promise<UpstreamAnswer>((resolve) => {
      let settled = false;
      let current: Connection | undefined;
      const settle = (answer: UpstreamAnswer) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        resolve(answer);
      };
      const timer = setTimeout(() => {
        settle(timedOut(timeoutMs, elapsed()));
        if (current?.exchange) {
          current.exchange = undefined;
          close(current);
        }
      }, timeoutMs);
      const answered = (progress: Outcome, retryable: boolean) => {
        current = undefined;
        if (settled) return;
        if (progress.state === 'done') return settle(this.answerOf(progress.answer, elapsed()));
        if (progress.state === 'tooLarge') return settle(tooLarge(String(progress.status), this.maxAnswerBytes, elapsed()));
        if (retryable) return void attempt(false);
        settle(requestFailed(new Error(progress.reason), elapsed()));
      };
      const attempt = async (mayReuse: boolean) => {
        let connection = mayReuse ? origin.idle.pop() : undefined;
        // One closed while it lay idle and not yet reported: passed over.
        while (connection?.closed) connection = origin.idle.pop();
        const reused = connection !== undefined;
        if (connection) connection.socket.timeout(0);
        else {
          try {
            connection = await open(origin);
          } catch (err) {
            return settle(requestFailed(err, elapsed()));
          }
          if (settled) return release(connection, true);
        }
        current = connection;
        connection.exchange = { reader: new Http1AnswerReader(this.maxAnswerBytes), reused, settle: answered };
        write(connection, request);
      };
      void attempt(true);
    });
  }

  private answerOf(answer: { status: number; headers: Map<string, string>; body: Uint8Array }, durationMs: number): UpstreamAnswer {
    const encoding = answer.headers.get('content-encoding')?.toLowerCase();
    let bytes = answer.body;
    if (encoding && encoding !== 'identity') {
      try {
        bytes = decompress(encoding, bytes, this.maxAnswerBytes);
      } catch (err) {
        if ((err as { code?: string }).code === 'ERR_BUFFER_TOO_LARGE') return tooLarge(String(answer.status), this.maxAnswerBytes, durationMs);
        return requestFailed(new Error(`an answer in ${JSON.stringify(encoding.slice(0, 32))} that does not decode: ${(err as Error).message}`), durationMs);
      }
    }
    let body: unknown;
    try {
      body = JSON.parse(utf8.decode(bytes));
    } catch {
      body = undefined;
    }
    return readAnswer({ status: answer.status, body, serverTiming: answer.headers.get('server-timing') }, durationMs);
  }

  private targetOf(base: string): Target {
    let target = this.targets.get(base);
    if (target) return target;
    const url = new URL(`${base}${httpConventions.path}`);
    if (url.protocol !== 'http:') throw new TypeError(`${url.protocol} is not http:`);
    const hostname = url.hostname.startsWith('[') ? url.hostname.slice(1, -1) : url.hostname;
    const port = url.port === '' ? 80 : Number(url.port);
    const key = `${hostname} ${port}`;
    let origin = this.origins.get(key);
    if (!origin) this.origins.set(key, (origin = { hostname, port, idle: [] }));
    target = { origin, head: `GET ${url.pathname}${url.search} HTTP/1.1\r\nhost: ${url.host}\r\n` };
    this.targets.set(base, target);
    return target;
  }
}

function open(origin: Origin): Promise<Connection> {
  const connection = { origin, closed: false } as Connection;
  return Bun.connect<Connection>({ hostname: origin.hostname, port: origin.port, data: connection, socket: HANDLERS }).then((socket) => {
    connection.socket = socket;
    socket.setNoDelay(true);
    return connection;
  });
}

/** The request's bytes; a header that could not be sent as it is (a line break, a name that is not a token) fails the call. */
function requestBytes(head: string, headers: Record<string, string>): Uint8Array {
  let text = head;
  if (!('accept' in headers)) text += 'accept: application/json\r\n';
  for (const name in headers) {
    const value = headers[name]!;
    if (!TOKEN.test(name)) throw new TypeError(`header name ${JSON.stringify(name.slice(0, 64))} is not a token`);
    if (OWN_FIELDS.has(name.toLowerCase())) throw new TypeError(`header ${name} is the client's to set`);
    if (!FIELD_VALUE.test(value)) throw new TypeError(`header ${name} has a value that cannot be sent (a control character or line break)`);
    text += `${name}: ${value}\r\n`;
  }
  // Header values are bytes (latin1), as fetch sends them; the request line and names are ASCII.
  return Buffer.from(`${text}\r\n`, 'latin1');
}

function decompress(encoding: string, bytes: Uint8Array, limit: number): Uint8Array {
  // node:zlib loads only for an upstream that compresses without being asked (no Accept-Encoding is sent).
  const zlib = require('node:zlib') as typeof import('node:zlib');
  const options = { maxOutputLength: limit };
  if (encoding === 'gzip' || encoding === 'x-gzip') return zlib.gunzipSync(bytes, options);
  if (encoding === 'deflate') return zlib.inflateSync(bytes, options);
  if (encoding === 'br') return zlib.brotliDecompressSync(bytes, options);
  throw new Error('a content coding this client does not take');
}
