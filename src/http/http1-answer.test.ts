import { describe, expect, test } from 'bun:test';
import { HEAD_LIMIT, Http1AnswerReader, type Progress } from './http1-answer';

const bytes = (text: string) => Buffer.from(text, 'latin1');
const text = (p: Progress) => (p.state === 'done' ? Buffer.from(p.answer.body).toString('utf8') : undefined);

/** Feeds `raw` in pieces of `size` bytes (every split point, at size 1), then ends the connection if asked. */
function read(raw: string, { size = raw.length, limit = 1 << 20, end = false } = {}): Progress {
  const reader = new Http1AnswerReader(limit);
  const all = bytes(raw);
  let progress: Progress = { state: 'more' };
  for (let i = 0; i < all.length && progress.state === 'more'; i += size) progress = reader.push(all.subarray(i, i + size));
  return progress.state === 'more' && end ? reader.end() : progress;
}

/** The same answer at every piece size from 1 byte to whole: the result never depends on where the bytes were cut. */
function everySplit(raw: string, options: { limit?: number; end?: boolean } = {}): Progress {
  const whole = read(raw, options);
  for (let size = 1; size < raw.length; size++) expect(read(raw, { ...options, size })).toEqual(whole);
  return whole;
}

const BODY = '[{"service":"Service B","message":"Grüß Gott"}]';
const LENGTH = Buffer.byteLength(BODY);

describe('an HTTP/1.x answer, read from the bytes of a connection', () => {
  test('a body by Content-Length, whole and cut at every byte; the fields by lower-case name, repeated ones joined', () => {
    const raw = `HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nServer-Timing: b;dur=1\r\nserver-timing: d;dur=2\r\nContent-Length: ${LENGTH}\r\n\r\n${Buffer.from(BODY).toString('latin1')}`;
    const p = everySplit(raw);
    expect(p.state).toBe('done');
    if (p.state !== 'done') return;
    expect(p.answer.status).toBe(200);
    expect(p.answer.headers.get('server-timing')).toBe('b;dur=1, d;dur=2');
    expect(p.answer.headers.get('content-type')).toBe('application/json');
    expect(text(p)).toBe(BODY);
    expect(p.answer.reusable).toBe(true);
  });

  test('a chunked body with chunk extensions and trailer fields, cut at every byte', () => {
    const raw = 'HTTP/1.1 502 Bad Gateway\r\nTransfer-Encoding: chunked\r\n\r\n5;name=value\r\n[1,2,\r\nA\r\n3,4,5,6,7]\r\n0\r\nX-Trailer: yes\r\n\r\n';
    const p = everySplit(raw);
    expect(p).toMatchObject({ state: 'done', answer: { status: 502, reusable: true } });
    expect(text(p)).toBe('[1,2,3,4,5,6,7]');
  });

  test('interim answers (100 Continue, 103 Early Hints) are passed over for the final one', () => {
    const p = everySplit('HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 103 Early Hints\r\nLink: </x>\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\n[]');
    expect(p).toMatchObject({ state: 'done', answer: { status: 200 } });
    expect(text(p)).toBe('[]');
  });

  test('no length and no chunking: the body runs to the end of the connection, which is then not reused', () => {
    const raw = 'HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n\r\n[1,2,3]';
    expect(read(raw).state).toBe('more');
    const p = everySplit(raw, { end: true });
    expect(p).toMatchObject({ state: 'done', answer: { reusable: false } });
    expect(text(p)).toBe('[1,2,3]');
  });

  test('which connections may carry the next request', () => {
    const reusable = (raw: string) => {
      const p = read(raw, { end: true });
      return p.state === 'done' ? p.answer.reusable : p.state;
    };
    expect(reusable('HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n')).toBe(true);
    expect(reusable('HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 0\r\n\r\n')).toBe(false);
    expect(reusable('HTTP/1.1 200 OK\r\nConnection: Keep-Alive, Close\r\nContent-Length: 0\r\n\r\n')).toBe(false);
    expect(reusable('HTTP/1.0 200 OK\r\nContent-Length: 0\r\n\r\n')).toBe(false);
    expect(reusable('HTTP/1.0 200 OK\r\nConnection: keep-alive\r\nContent-Length: 0\r\n\r\n')).toBe(true);
    // Bytes after the answer: a second answer nobody asked for, or garbage; either way the framing can no longer be trusted.
    expect(reusable('HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\n[]HTTP/1.1 200 OK\r\n')).toBe(false);
    // Both framings: Transfer-Encoding wins and the connection is closed after (RFC 9112 6.3, request smuggling).
    expect(reusable('HTTP/1.1 200 OK\r\nContent-Length: 100\r\nTransfer-Encoding: chunked\r\n\r\n2\r\n[]\r\n0\r\n\r\n')).toBe(false);
    expect(reusable('HTTP/1.1 204 No Content\r\n\r\n')).toBe(true);
    expect(reusable('HTTP/1.1 304 Not Modified\r\nContent-Length: 10\r\n\r\n')).toBe(true);
  });

  test('a body over the limit is reported as too large: at once when its length says so, else as soon as it passes', () => {
    expect(read('HTTP/1.1 200 OK\r\nContent-Length: 11\r\n\r\n', { limit: 10 })).toEqual({ state: 'tooLarge', status: 200 });
    expect(read('HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\n0123456789', { limit: 10 }).state).toBe('done');
    expect(everySplit('HTTP/1.1 502 Bad Gateway\r\nTransfer-Encoding: chunked\r\n\r\n6\r\n012345\r\n6\r\n678901\r\n', { limit: 10 })).toEqual({ state: 'tooLarge', status: 502 });
    expect(everySplit('HTTP/1.1 200 OK\r\n\r\n01234567890', { limit: 10 })).toEqual({ state: 'tooLarge', status: 200 });
  });

  test('what is not an answer this client can read fails, with the reason', () => {
    const reason = (raw: string, end = false) => {
      const p = read(raw, { end });
      return p.state === 'failed' ? p.reason : p.state;
    };
    expect(reason('SSH-2.0-OpenSSH_9.6\r\n\r\n')).toStartWith('not an HTTP/1.x answer');
    expect(reason('HTTP/2 200\r\n\r\n')).toStartWith('not an HTTP/1.x answer');
    expect(reason('HTTP/1.1 20 OK\r\n\r\n')).toStartWith('not an HTTP/1.x answer');
    expect(reason('HTTP/1.1 200 OK\r\nX-Folded: a\r\n  b\r\n\r\n')).toStartWith('a malformed header field');
    expect(reason('HTTP/1.1 200 OK\r\nBad Name: x\r\n\r\n')).toStartWith('a malformed header field');
    expect(reason('HTTP/1.1 200 OK\r\nContent-Length: 5, 6\r\n\r\n')).toStartWith('a malformed Content-Length');
    expect(reason('HTTP/1.1 200 OK\r\nContent-Length: -1\r\n\r\n')).toStartWith('a malformed Content-Length');
    expect(read('HTTP/1.1 200 OK\r\nContent-Length: 2, 2\r\n\r\n[]').state).toBe('done');
    expect(reason('HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip, chunked\r\n\r\n')).toStartWith('a transfer coding this client does not take');
    expect(reason('HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n')).toStartWith('a malformed chunk size');
    expect(reason('HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\n[1]\r\n0\r\n\r\n')).toBe('a chunk longer than its size said');
    expect(reason('HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n\r\n')).toStartWith('the upstream switched protocols');
    expect(reason(`HTTP/1.1 200 OK\r\nX-Big: ${'x'.repeat(HEAD_LIMIT)}\r\n\r\n`)).toStartWith(`the answer's head is larger than ${HEAD_LIMIT} bytes`);
    expect(reason(`HTTP/1.1 200 OK\r\nX-Big: ${'x'.repeat(HEAD_LIMIT)}`)).toStartWith(`the answer's head is larger than ${HEAD_LIMIT} bytes`);
    expect(reason('HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\n[]', true)).toBe('the connection closed in the middle of the body');
    expect(reason('HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\n[]\r\n', true)).toBe('the connection closed in the middle of the body');
    expect(reason('HTTP/1.1 200', true)).toBe('the connection closed before an answer');
    expect(reason('', true)).toBe('the connection closed before an answer');
  });

  test('whether anything of an answer arrived (a connection closed before that may be retried)', () => {
    const reader = new Http1AnswerReader(100);
    expect(reader.started).toBe(false);
    reader.push(bytes('H'));
    expect(reader.started).toBe(true);
  });

  test('once finished, it answers the same and reads nothing more', () => {
    const reader = new Http1AnswerReader(100);
    const done = reader.push(bytes('HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\n[]'));
    expect(reader.push(bytes('HTTP/1.1 500 Oops\r\n\r\n'))).toBe(done);
    expect(reader.end() as Progress).toBe(done);
  });
});
