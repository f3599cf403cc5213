/**
 * A first-in first-out queue of string tuples kept as UTF-8 bytes in large buffers. Why bytes: a queue that nobody consumes
 * (D's embedded queue when each role is its own process) holds every message it is given, and as objects (five a message:
 * the message, its headers, their strings) 200,000 messages were a million of them, which every full collection walks
 * (38-63 ms against 0.7 as bytes, in one process) and which held D's peak RSS in the chain at 161 MB against 107. A buffer's
 * bytes are not objects: the collector never looks inside them.
 *
 * A record is the byte length of its text, its field count and each field's length in UTF-16 code units (32-bit little-endian
 * numbers), then its fields as one UTF-8 text: one write and one decode a record, since each call into Buffer costs more than
 * the bytes it copies. Code-unit lengths survive the round trip (a lone surrogate comes back as U+FFFD, one unit for one;
 * a high one ending a field and a low one starting the next are a pair in the text and come back as they were).
 * A record is never split across buffers; a buffer is let go once every record in it has been read.
 */

/** Bytes of a new buffer; a record longer than this gets a buffer of its own size. */
const CHUNK_BYTES = 256 * 1024;

export class ByteFifo {
  private readonly chunks: Buffer[] = [];
  /** Bytes written into each chunk, parallel to `chunks`. */
  private readonly filled: number[] = [];
  /** Where the next record starts in chunks[0]. */
  private readAt = 0;
  private count = 0;

  get length(): number {
    return this.count;
  }

  push(fields: readonly string[]): void {
    const text = fields.join('');
    const most = 8 + 4 * fields.length + 3 * text.length; // a UTF-16 code unit is at most 3 bytes of UTF-8
    let last = this.chunks.length - 1;
    if (last < 0 || this.chunks[last]!.length - this.filled[last]! < most) {
      // Every buffer but an empty queue's one holds a record not yet read, so shift() reads on in the next one.
      if (this.count === 0) this.chunks.length = this.filled.length = 0;
      this.chunks.push(Buffer.allocUnsafe(Math.max(CHUNK_BYTES, most)));
      this.filled.push(0);
      last = this.chunks.length - 1;
    }
    const chunk = this.chunks[last]!;
    const start = this.filled[last]!;
    let at = chunk.writeUInt32LE(fields.length, start + 4);
    for (const field of fields) at = chunk.writeUInt32LE(field.length, at);
    const bytes = chunk.write(text, at);
    chunk.writeUInt32LE(bytes, start);
    this.filled[last] = at + bytes;
    this.count++;
  }

  shift(): string[] | undefined {
    if (this.count === 0) return undefined;
    const chunk = this.chunks[0]!;
    const start = this.readAt;
    const fields = new Array<string>(chunk.readUInt32LE(start + 4));
    const textAt = start + 8 + 4 * fields.length;
    const end = textAt + chunk.readUInt32LE(start);
    const text = chunk.toString('utf8', textAt, end);
    for (let i = 0, from = 0; i < fields.length; i++) {
      const to = from + chunk.readUInt32LE(start + 8 + 4 * i);
      fields[i] = text.slice(from, to);
      from = to;
    }
    this.count--;
    if (end < this.filled[0]!) this.readAt = end;
    else this.drained();
    return fields;
  }

  /** Bytes held in buffers, read or not: what the backlog costs the process. */
  get bytesHeld(): number {
    let bytes = 0;
    for (const chunk of this.chunks) bytes += chunk.length;
    return bytes;
  }

  /** chunks[0] is read to its end: let it go, or, when it is the one being written, write it again from its start. */
  private drained(): void {
    this.readAt = 0;
    if (this.chunks.length > 1) {
      this.chunks.shift();
      this.filled.shift();
    } else {
      this.filled[0] = 0;
    }
  }
}
