/**
 * The socket client against a TCP server that answers with bytes the test writes: connection reuse, the upstream closing a
 * kept-alive connection, answers cut anywhere, and requests that must never be sent. The answers every HTTP client must give
 * alike are in clients.test.ts.
 */
import { afterEach, describe, expect, test } from 'bun:test';
import type { Socket, TCPSocketListener } from 'bun';
import { gzipSync } from 'node:zlib';
import { eventually } from '../../test/support/eventually';
import { makeGreeting } from '../greeting';
import { httpClient } from './client';
import { SocketClient } from './socket-client';

interface Seen {
  /** The request's head as the server read it. */
  head: string;
  /** Which connection (counted from 0) it came on. */
  connection: number;
}

type Reply = (socket: Socket<{ id: number; buffer: string }>, seen: Seen) => void;

const servers: TCPSocketListener<unknown>[] = [];
afterEach(() => {
  for (const s of servers.splice(0)) s.stop(true);
});

/** A TCP server on loopback that hands each request's head to `reply`, and records what it saw. */
function rawServer(reply: Reply) {
  const seen: Seen[] = [];
  let connections = 0;
  let closed = 0;
  const listener = Bun.listen<{ id: number; buffer: string }>({
    hostname: '127.0.0.1',
    port: 0,
    socket: {
      open(socket) {
        socket.data = { id: connections++, buffer: '' };
      },
      data(socket, bytes) {
        socket.data.buffer += Buffer.from(bytes).toString('latin1');
        let end: number;
        while ((end = socket.data.buffer.indexOf('\r\n\r\n')) !== -1) {
          const head = socket.data.buffer.slice(0, end);
          socket.data.buffer = socket.data.buffer.slice(end + 4);
          const request = { head, connection: socket.data.id };
          seen.push(request);
          reply(socket, request);
        }
      },
      close() {
        closed++;
      },
    },
  });
  servers.push(listener as TCPSocketListener<unknown>);
  return {
    url: `http://127.0.0.1:${listener.port}`,
    port: listener.port,
    seen,
    get connections() {
      return connections;
    },
    get closed() {
      return closed;
    },
  };
}

const GREETING = makeGreeting('Service B', 'Grüß Gott', 'v1');
const BODY = Buffer.from(JSON.stringify([GREETING]));
const ok = (extra = '', body: Uint8Array = BODY) => Buffer.concat([Buffer.from(`HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: ${body.length}\r\n${extra}\r\n`), body]);

const LIMIT = 64 * 1024;
const upstream = (url: string) => ({ id: 'b', name: 'Service B', url, transport: 'http' as const });
const call = (client: SocketClient, url: string, headers: Record<string, string> = {}, timeoutMs = 2000) => client.call({ upstream: upstream(url), headers, timeoutMs });

describe('socket client', () => {
  test('calls one after another share one kept-alive connection; calls at once open one each, then reuse them', async () => {
    const server = rawServer((socket) => void socket.write(ok()));
    const client = new SocketClient(LIMIT);
    for (let i = 0; i < 5; i++) expect(await call(client, server.url)).toMatchObject({ outcome: 'whole', entries: [GREETING] });
    expect(server.connections).toBe(1);
    await Promise.all(Array.from({ length: 4 }, () => call(client, server.url)));
    expect(server.connections).toBe(4);
    await Promise.all(Array.from({ length: 4 }, () => call(client, server.url)));
    expect(server.connections).toBe(4);
  });

  test('the request: GET on the upstream URL\'s path, its Host, Accept, and the forwarded headers as given', async () => {
    const server = rawServer((socket) => void socket.write(ok()));
    await call(new SocketClient(LIMIT), `${server.url}/prefix`, { 'x-request-id': 'r1', 'end-user': 'jason', traceparent: '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01' });
    const lines = server.seen[0]!.head.split('\r\n');
    expect(lines[0]).toBe('GET /prefix/api/greeting HTTP/1.1');
    expect(lines).toContain(`host: 127.0.0.1:${server.port}`);
    expect(lines).toContain('accept: application/json');
    expect(lines).toContain('x-request-id: r1');
    expect(lines).toContain('end-user: jason');
    expect(lines).toContain('traceparent: 00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01');
  });

  test('a header that would change what the request says is never sent: the call fails and nothing reaches the upstream', async () => {
    const server = rawServer((socket) => void socket.write(ok()));
    const client = new SocketClient(LIMIT);
    for (const headers of <Record<string, string>[]>[{ 'x-request-id': 'r1\r\nx-injected: 1' }, { 'x-request-id': 'r1\nx' }, { 'bad name': 'x' }, { host: 'elsewhere' }, { 'Content-Length': '5' }, { 'transfer-encoding': 'chunked' }]) {
      const answer = await call(client, server.url, headers);
      expect(answer).toMatchObject({ outcome: 'failed', failure: 'error' });
      expect((answer as { reason: string }).reason).toStartWith('request failed: header');
    }
    expect(server.seen).toHaveLength(0);
  });

  test('an answer that arrives a byte at a time is read whole', async () => {
    const server = rawServer((socket) => {
      const bytes = ok('server-timing: b;dur=1.5;desc="Service B"\r\n');
      let i = 0;
      const next = () => {
        if (i < bytes.length) socket.write(bytes.subarray(i, ++i)), setTimeout(next, 0);
      };
      next();
    });
    const answer = await call(new SocketClient(LIMIT), server.url, {}, 10_000);
    expect(answer).toMatchObject({ outcome: 'whole', entries: [GREETING], timings: [{ id: 'b', name: 'Service B', durationMs: 1.5 }] });
  });

  test('a chunked answer, and one that runs to the end of the connection (which is then not reused)', async () => {
    const chunked = rawServer((socket) => {
      const half = Math.floor(BODY.length / 2);
      socket.write(Buffer.concat([Buffer.from(`HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n${half.toString(16)}\r\n`), BODY.subarray(0, half), Buffer.from(`\r\n${(BODY.length - half).toString(16)}\r\n`), BODY.subarray(half), Buffer.from('\r\n0\r\n\r\n')]));
    });
    const client = new SocketClient(LIMIT);
    expect(await call(client, chunked.url)).toMatchObject({ outcome: 'whole', entries: [GREETING] });
    const untilClose = rawServer((socket) => {
      socket.write(Buffer.concat([Buffer.from('HTTP/1.1 200 OK\r\ncontent-type: application/json\r\n\r\n'), BODY]));
      socket.end();
    });
    expect(await call(client, untilClose.url)).toMatchObject({ outcome: 'whole', entries: [GREETING] });
    expect(await call(client, untilClose.url)).toMatchObject({ outcome: 'whole', entries: [GREETING] });
    expect(untilClose.connections).toBe(2);
  });

  test('`Connection: close`, and bytes after the answer, leave the connection unused after', async () => {
    for (const reply of [(s: Socket<{ id: number; buffer: string }>) => s.write(ok('connection: close\r\n')), (s: Socket<{ id: number; buffer: string }>) => s.write(Buffer.concat([ok(), Buffer.from('garbage')]))]) {
      const server = rawServer((socket) => void reply(socket));
      const client = new SocketClient(LIMIT);
      expect(await call(client, server.url)).toMatchObject({ outcome: 'whole' });
      expect(await call(client, server.url)).toMatchObject({ outcome: 'whole' });
      expect(server.connections).toBe(2);
    }
  });

  test('bytes that arrive on an idle connection, asked for by no request, retire it', async () => {
    const server = rawServer((socket) => {
      socket.write(ok());
      setTimeout(() => socket.write('HTTP/1.1 500 Stray\r\ncontent-length: 0\r\n\r\n'), 10);
    });
    const client = new SocketClient(LIMIT);
    expect(await call(client, server.url)).toMatchObject({ outcome: 'whole' });
    // The client closes the connection it retires: a call before the stray bytes are read would take it and read them.
    await eventually(() => server.closed === 1, 'the connection that carried stray bytes is closed');
    expect(await call(client, server.url)).toMatchObject({ outcome: 'whole', entries: [GREETING] });
    expect(server.connections).toBe(2);
  });

  test('a kept-alive connection the upstream closed while it lay idle is not used again', async () => {
    // The upstream answers, then closes each connection a moment later without saying so (its idle timeout, a restart).
    const server = rawServer((socket) => {
      socket.write(ok());
      setTimeout(() => socket.end(), 20);
    });
    const client = new SocketClient(LIMIT);
    for (let i = 0; i < 3; i++) {
      expect(await call(client, server.url)).toMatchObject({ outcome: 'whole', entries: [GREETING] });
      await eventually(() => server.closed === i + 1, `connection ${i} closed by the upstream`);
    }
    expect(server.connections).toBe(3);
  });

  test('one the upstream closes just as the next request arrives is retried once, on a new connection', async () => {
    // Each connection carries one answer; the second request on it meets a close (the race an idle timeout makes).
    const answered = new Set<number>();
    const server = rawServer((socket, seen) => {
      if (answered.has(seen.connection)) return void socket.end();
      answered.add(seen.connection);
      socket.write(ok());
    });
    const client = new SocketClient(LIMIT);
    for (let i = 0; i < 3; i++) expect(await call(client, server.url)).toMatchObject({ outcome: 'whole', entries: [GREETING] });
    expect(server.connections).toBe(3);
    expect(server.seen).toHaveLength(5);
  });

  test('a new connection closed before any answer fails the call: one retry at most, never a loop', async () => {
    const server = rawServer((socket) => void socket.end());
    const answer = await call(new SocketClient(LIMIT), server.url);
    expect(answer).toMatchObject({ outcome: 'failed', failure: 'error', reason: 'request failed: the connection closed before an answer' });
    expect(server.connections).toBe(1);
  });

  test('a connection that drops in the middle of an answer fails the call with why, and is not retried', async () => {
    const server = rawServer((socket) => {
      socket.write(ok().subarray(0, 80));
      socket.end();
    });
    const answer = await call(new SocketClient(LIMIT), server.url);
    expect(answer).toMatchObject({ outcome: 'failed', failure: 'error', reason: 'request failed: the connection closed in the middle of the body' });
    expect(server.seen).toHaveLength(1);
  });

  test('what is not an HTTP answer fails the call, and the next call works on a new connection', async () => {
    let first = true;
    const server = rawServer((socket) => {
      socket.write(first ? Buffer.from('SSH-2.0-OpenSSH_9.6\r\n\r\n') : ok());
      first = false;
    });
    const client = new SocketClient(LIMIT);
    const answer = await call(client, server.url);
    expect(answer).toMatchObject({ outcome: 'failed', failure: 'error' });
    expect((answer as { reason: string }).reason).toStartWith('request failed: not an HTTP/1.x answer');
    expect(await call(client, server.url)).toMatchObject({ outcome: 'whole' });
    expect(server.connections).toBe(2);
  });

  test('a deadline that passes closes the connection; the upstream sees it, the next call gets a new one', async () => {
    let replies = 0;
    const server = rawServer((socket) => {
      if (replies++ > 0) socket.write(ok());
    });
    const client = new SocketClient(LIMIT);
    const answer = await call(client, server.url, {}, 100);
    expect(answer).toMatchObject({ outcome: 'failed', failure: 'timeout', reason: 'no answer within 100 ms' });
    expect(answer.durationMs).toBeLessThan(1_000);
    await eventually(() => server.closed === 1, 'the timed-out connection is closed');
    expect(await call(client, server.url)).toMatchObject({ outcome: 'whole' });
    expect(server.connections).toBe(2);
  });

  test('a compressed answer (sent though no Accept-Encoding asked for it) is decoded; past the limit once decoded, too large', async () => {
    const small = gzipSync(BODY);
    const server = rawServer((socket, seen) => void socket.write(ok('content-encoding: gzip\r\n', seen.connection === 0 && server.seen.length === 1 ? small : gzipSync(Buffer.alloc(LIMIT + 1, 32)))));
    const client = new SocketClient(LIMIT);
    expect(await call(client, server.url)).toMatchObject({ outcome: 'whole', entries: [GREETING] });
    expect(await call(client, server.url)).toMatchObject({ outcome: 'failed', failure: 'too_large' });
    expect(server.seen[0]!.head.toLowerCase()).not.toContain('accept-encoding');
  });

  test('a host name is resolved; one that does not resolve fails the call', async () => {
    const server = rawServer((socket) => void socket.write(ok()));
    const client = new SocketClient(LIMIT);
    expect(await call(client, `http://localhost:${server.port}`)).toMatchObject({ outcome: 'whole' });
    expect(await call(client, 'http://no-such-host.invalid:8080')).toMatchObject({ outcome: 'failed', failure: 'error' });
  });

  test('https upstreams are not its to call: the role\'s HTTP client sends them through fetch', async () => {
    const refused = await call(new SocketClient(LIMIT), 'https://127.0.0.1:1');
    expect(refused).toMatchObject({ outcome: 'failed', reason: 'request failed: https: is not http:' });
    const server = rawServer(() => {});
    const viaFetch = await httpClient(LIMIT).call({ upstream: upstream(`https://127.0.0.1:${server.port}`), headers: {}, timeoutMs: 300 });
    expect(viaFetch).toMatchObject({ outcome: 'failed' });
    expect((viaFetch as { reason: string }).reason).not.toContain('is not http:');
  });
});
