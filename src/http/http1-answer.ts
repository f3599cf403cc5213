/**
 * Reads one HTTP/1.x answer from the bytes of a connection, in whatever pieces they arrive (RFC 9112): the status line, the
 * header fields, and the body framed by Transfer-Encoding: chunked, by Content-Length, or by the connection's end. It knows
 * nothing of sockets, so every way an answer can be cut is testable byte by byte; socket-client.ts feeds it.
 *
 * It reads what a GET may get back and refuses the rest with a reason: a head over HEAD_LIMIT, a status line that is not
 * HTTP/1.x, conflicting lengths, a malformed chunk, a body over the caller's limit (reported apart, as `tooLarge`). Interim
 * 1xx answers are skipped. Whether the connection may carry the next request is part of the result.
 */

/** The most a status line and header fields may take: far beyond any answer of the greeting API (Node's default is 16 KiB). */
export const HEAD_LIMIT = 64 * 1024;
/** A chunk-size line with its extensions; RFC 9112 sets no bound, a reader must. */
const CHUNK_LINE_LIMIT = 4096;

export interface Http1Answer {
  status: number;
  /** Field names in lower case; a field sent more than once is joined with ", " (RFC 9110 §5.3). */
  headers: Map<string, string>;
  body: Uint8Array;
  /** The connection may carry another request: HTTP/1.1 without `Connection: close`, a delimited body, no bytes after it. */
  reusable: boolean;
}

export type Progress =
  | { state: 'more' }
  | { state: 'done'; answer: Http1Answer }
  | { state: 'failed'; reason: string }
  /** The body would pass the limit; `status` is what the answer said. */
  | { state: 'tooLarge'; status: number };

/** Where an answer stands once it is no longer waiting for bytes. */
export type Outcome = Exclude<Progress, { state: 'more' }>;

type Framing = { kind: 'length'; remaining: number } | { kind: 'chunked' } | { kind: 'close' };

const CRLF = new Uint8Array([13, 10]);
const STATUS_LINE = /^HTTP\/1\.([01]) ([1-9]\d\d)(?: [^\r\n]*)?$/;
const TOKEN = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;
const LENGTH = /^\d{1,15}$/;
const latin1 = new TextDecoder('latin1');

function indexOf(haystack: Uint8Array, needle: Uint8Array, from: number): number {
  const first = needle[0]!;
  for (let i = haystack.indexOf(first, from); i !== -1 && i + needle.length <= haystack.length; i = haystack.indexOf(first, i + 1)) {
    let j = 1;
    while (j < needle.length && haystack[i + j] === needle[j]) j++;
    if (j === needle.length) return i;
  }
  return -1;
}

const HEAD_END = new Uint8Array([13, 10, 13, 10]);

export class Http1AnswerReader {
  private buffer: Uint8Array = new Uint8Array(0);
  private status = 0;
  private headers = new Map<string, string>();
  private framing: Framing | undefined;
  private closeAfter = false;
  private readonly parts: Uint8Array[] = [];
  private size = 0;
  private finished: Outcome | undefined;
  /** Chunked: the bytes of the current chunk still to come (then its CRLF), or undefined between chunks. */
  private chunkLeft: number | undefined;
  private inTrailers = false;
  /** The Content-Length alone says the body is over the limit: it is not waited for. */
  private declaredTooLarge = false;

  /** `limit`: the most body bytes the caller takes. */
  constructor(private readonly limit: number) {}

  /** Feeds bytes as they arrive; the answer once it is complete (or why it cannot be one). Bytes after it are not read. */
  push(bytes: Uint8Array): Progress {
    if (this.finished) return this.finished;
    this.buffer = this.buffer.length === 0 ? bytes : Buffer.concat([this.buffer, bytes]);
    return (this.finished = this.advance()) ?? { state: 'more' };
  }

  /** The connection ended: the answer, if its body runs to the end of the connection, else why it is incomplete. */
  end(): Outcome {
    if (this.finished) return this.finished;
    if (this.framing?.kind === 'close') return (this.finished = this.done(false));
    return (this.finished = { state: 'failed', reason: this.framing ? 'the connection closed in the middle of the body' : 'the connection closed before an answer' });
  }

  /** Whether any byte of an answer has arrived (a connection that closes before that may be retried). */
  get started(): boolean {
    return this.status !== 0 || this.buffer.length > 0;
  }

  private advance(): Outcome | undefined {
    while (!this.framing) {
      const end = indexOf(this.buffer, HEAD_END, 0);
      if (end === -1) return this.buffer.length > HEAD_LIMIT ? this.fail(`the answer's head is larger than ${HEAD_LIMIT} bytes`) : undefined;
      if (end > HEAD_LIMIT) return this.fail(`the answer's head is larger than ${HEAD_LIMIT} bytes`);
      const problem = this.readHead(latin1.decode(this.buffer.subarray(0, end)));
      this.buffer = this.buffer.subarray(end + 4);
      if (problem) return this.fail(problem);
    }
    if (this.declaredTooLarge) return { state: 'tooLarge', status: this.status };
    if (this.framing.kind === 'length') {
      const take = Math.min(this.framing.remaining, this.buffer.length);
      this.add(this.buffer.subarray(0, take));
      this.buffer = this.buffer.subarray(take);
      this.framing.remaining -= take;
      return this.framing.remaining === 0 ? this.done(this.buffer.length === 0) : undefined;
    }
    if (this.framing.kind === 'close') {
      const over = this.add(this.buffer);
      this.buffer = new Uint8Array(0);
      return over;
    }
    return this.readChunks();
  }

  /** Reads a status line and fields; sets the framing, or leaves it unset after an interim (1xx) answer. */
  private readHead(head: string): string | undefined {
    // Line by line with indexOf rather than a split and a regex per field: this runs for every answer of every hop.
    let eol = head.indexOf('\r\n');
    const statusLine = eol === -1 ? head : head.slice(0, eol);
    const status = STATUS_LINE.exec(statusLine);
    if (!status) return `not an HTTP/1.x answer: ${JSON.stringify(statusLine.slice(0, 64))}`;
    const headers = new Map<string, string>();
    while (eol !== -1) {
      const start = eol + 2;
      eol = head.indexOf('\r\n', start);
      const line = eol === -1 ? head.slice(start) : head.slice(start, eol);
      const colon = line.indexOf(':');
      const name = colon > 0 ? line.slice(0, colon) : '';
      if (!TOKEN.test(name)) return `a malformed header field: ${JSON.stringify(line.slice(0, 64))}`;
      const value = trimSpaces(line, colon + 1);
      const key = name.toLowerCase();
      const seen = headers.get(key);
      headers.set(key, seen === undefined ? value : `${seen}, ${value}`);
    }
    const code = Number(status[2]);
    if (code === 101) return 'the upstream switched protocols, which was not asked for';
    if (code < 200) return undefined;
    this.status = code;
    this.headers = headers;
    const connection = (headers.get('connection') ?? '').toLowerCase();
    this.closeAfter = status[1] === '0' ? !/(^|,)\s*keep-alive\s*(,|$)/.test(connection) : /(^|,)\s*close\s*(,|$)/.test(connection);
    return this.frame(headers, code);
  }

  /** How the body is delimited (RFC 9112 §6.3): none, chunked, a length, or the end of the connection. */
  private frame(headers: Map<string, string>, code: number): string | undefined {
    if (code === 204 || code === 304) return void (this.framing = { kind: 'length', remaining: 0 });
    const te = headers.get('transfer-encoding');
    if (te !== undefined) {
      const codings = te.toLowerCase().split(',').map((c) => c.trim());
      // Chunked last delimits the body; any other coding is ours to undo, which we do not ask for (no TE header sent).
      if (codings.at(-1) !== 'chunked' || codings.length > 1) return `a transfer coding this client does not take: ${JSON.stringify(te.slice(0, 64))}`;
      // With both, Transfer-Encoding wins, and the connection must not be reused (RFC 9112 §6.3, request smuggling).
      if (headers.has('content-length')) this.closeAfter = true;
      return void (this.framing = { kind: 'chunked' });
    }
    const cl = headers.get('content-length');
    if (cl !== undefined) {
      const length = contentLength(cl);
      if (length === undefined) return `a malformed Content-Length: ${JSON.stringify(cl.slice(0, 64))}`;
      this.declaredTooLarge = length > this.limit;
      return void (this.framing = { kind: 'length', remaining: length });
    }
    this.closeAfter = true;
    return void (this.framing = { kind: 'close' });
  }

  private readChunks(): Outcome | undefined {
    for (;;) {
      if (this.chunkLeft !== undefined) {
        if (this.chunkLeft > 0) {
          const take = Math.min(this.chunkLeft, this.buffer.length);
          const over = this.add(this.buffer.subarray(0, take));
          if (over) return over;
          this.buffer = this.buffer.subarray(take);
          this.chunkLeft -= take;
          if (this.chunkLeft > 0) return undefined;
        }
        if (this.buffer.length < 2) return undefined;
        if (this.buffer[0] !== 13 || this.buffer[1] !== 10) return this.fail('a chunk longer than its size said');
        this.buffer = this.buffer.subarray(2);
        this.chunkLeft = undefined;
      }
      const eol = indexOf(this.buffer, CRLF, 0);
      if (eol === -1) return this.buffer.length > CHUNK_LINE_LIMIT ? this.fail('a chunk-size line too long') : undefined;
      const line = latin1.decode(this.buffer.subarray(0, eol));
      this.buffer = this.buffer.subarray(eol + 2);
      if (this.inTrailers) {
        if (line === '') return this.done(this.buffer.length === 0);
        const colon = line.indexOf(':');
        if (colon < 1 || !TOKEN.test(line.slice(0, colon))) return this.fail(`a malformed trailer field: ${JSON.stringify(line.slice(0, 64))}`);
        continue;
      }
      const size = /^([0-9A-Fa-f]{1,12})[ \t]*(?:;.*)?$/.exec(line);
      if (!size) return this.fail(`a malformed chunk size: ${JSON.stringify(line.slice(0, 64))}`);
      const length = parseInt(size[1]!, 16);
      if (length === 0) this.inTrailers = true;
      else this.chunkLeft = length;
    }
  }

  /** Adds body bytes; the tooLarge result once they pass the limit. */
  private add(bytes: Uint8Array): Outcome | undefined {
    if (bytes.length === 0) return undefined;
    this.size += bytes.length;
    if (this.size > this.limit) return { state: 'tooLarge', status: this.status };
    this.parts.push(bytes);
    return undefined;
  }

  private done(nothingAfter: boolean): Outcome {
    const body = this.parts.length === 1 ? this.parts[0]! : Buffer.concat(this.parts);
    return { state: 'done', answer: { status: this.status, headers: this.headers, body, reusable: nothingAfter && !this.closeAfter } };
  }

  private fail(reason: string): Outcome {
    return { state: 'failed', reason };
  }
}

/** A field's value: what follows the colon, without the spaces and tabs around it (RFC 9110 §5.5). */
function trimSpaces(line: string, from: number): string {
  let start = from;
  let end = line.length;
  while (start < end && (line.charCodeAt(start) === 32 || line.charCodeAt(start) === 9)) start++;
  while (end > start && (line.charCodeAt(end - 1) === 32 || line.charCodeAt(end - 1) === 9)) end--;
  return line.slice(start, end);
}

/** A Content-Length's value, also when it is repeated with the same number (`5, 5`); undefined when malformed or they differ. */
function contentLength(value: string): number | undefined {
  if (LENGTH.test(value)) return Number(value);
  const values = new Set(value.split(',').map((v) => trimSpaces(v, 0)));
  const [only] = values;
  return values.size === 1 && LENGTH.test(only!) ? Number(only) : undefined;
}
