// The control socket's byte streams cut into lines and requests: lines are LF-terminated and at
// most MAX_LINE_BYTES, a blank line ends a request. The client reads replies with LineReader, the
// server requests with RequestAssembler; both are pure (protocol.ts parses what they cut).

import { Errno, MAX_LINE_BYTES, MAX_REQUEST_LINES, ProtocolError, parseRequestLines, type Request } from './protocol.js';

/**
 * Splits a byte stream into lines (LF-terminated, returned without the LF). Bytes are decoded as
 * UTF-8 per complete line, so a chunk boundary inside a character is harmless. A line longer
 * than `maxLine` bytes sets `overflow` and stops the reader for good: the stream cannot be
 * resynchronised, so the caller answers -EMSGSIZE and closes.
 */
export class LineReader {
  private pending: Buffer[] = [];
  private pendingBytes = 0;
  overflow = false;

  constructor(private readonly maxLine = MAX_LINE_BYTES) {}

  push(chunk: Buffer): string[] {
    const lines: string[] = [];
    if (this.overflow) return lines;
    const lastLf = chunk.lastIndexOf(0x0a);
    let start = 0;
    if (lastLf >= 0) {
      // The held bytes end at the first LF; the complete lines after it are decoded in one go (an
      // LF never falls inside a UTF-8 character), not one Buffer per line: a long reply holds
      // hundreds of thousands of lines.
      const firstLf = chunk.indexOf(0x0a);
      if (this.pending.length > 0) {
        const piece = chunk.subarray(0, firstLf);
        if (this.pendingBytes + piece.length > this.maxLine) return this.fail(lines);
        lines.push(Buffer.concat([...this.pending, piece]).toString('utf8'));
        this.pending = [];
        this.pendingBytes = 0;
        start = firstLf + 1;
      }
      if (start <= lastLf) {
        const text = chunk.toString('utf8', start, lastLf);
        let from = 0;
        for (;;) {
          const lf = text.indexOf('\n', from);
          const line = lf < 0 ? text.slice(from) : text.slice(from, lf);
          // A string of n UTF-16 units holds at most 3n bytes; only long lines are measured.
          if (line.length * 3 > this.maxLine && Buffer.byteLength(line) > this.maxLine) return this.fail(lines);
          lines.push(line);
          if (lf < 0) break;
          from = lf + 1;
        }
      }
      start = lastLf + 1;
    }
    const rest = chunk.subarray(start);
    if (rest.length > 0) {
      if (this.pendingBytes + rest.length > this.maxLine) return this.fail(lines);
      this.pending.push(Buffer.from(rest));
      this.pendingBytes += rest.length;
    }
    return lines;
  }

  /** Bytes held of an unfinished line. */
  get buffered(): number {
    return this.pendingBytes;
  }

  private fail(lines: string[]): string[] {
    this.overflow = true;
    this.pending = [];
    this.pendingBytes = 0;
    return lines;
  }
}

/** One event out of the request assembler: a request, a refused request, or a fatal overflow. */
export type RequestEvent =
  | { readonly type: 'request'; readonly request: Request }
  | { readonly type: 'error'; readonly error: ProtocolError; readonly fatal: boolean };

/**
 * Turns the bytes of one client connection into requests. Every blank line ends a request, so
 * every blank line gets exactly one answer; an empty request is an error like any other.
 */
export class RequestAssembler {
  private readonly reader: LineReader;
  private lines: string[] = [];
  private dead = false;

  constructor(maxLine = MAX_LINE_BYTES, private readonly maxLines = MAX_REQUEST_LINES) {
    this.reader = new LineReader(maxLine);
  }

  push(chunk: Buffer): RequestEvent[] {
    const events: RequestEvent[] = [];
    if (this.dead) return events;
    for (const line of this.reader.push(chunk)) {
      if (line === '') {
        const parsed = parseRequestLines(this.lines);
        this.lines = [];
        events.push(parsed instanceof ProtocolError ? { type: 'error', error: parsed, fatal: false } : { type: 'request', request: parsed });
        continue;
      }
      this.lines.push(line);
      if (this.lines.length >= this.maxLines) {
        this.dead = true;
        events.push({ type: 'error', error: new ProtocolError(Errno.EMSGSIZE, `request has more than ${this.maxLines - 1} lines`), fatal: true });
        return events;
      }
    }
    if (this.reader.overflow) {
      this.dead = true;
      events.push({ type: 'error', error: new ProtocolError(Errno.EMSGSIZE, `line longer than ${MAX_LINE_BYTES} bytes`), fatal: true });
    }
    return events;
  }
}
