// The msnl side of the control socket: one connection per request, one method per request.
// Failures are ControlClientError with a message fit for `Error: ...` on the terminal. A refused
// connection leaves the socket file alone: the daemon replaces stale sockets when it starts.

import net from 'node:net';
import { LineReader } from './framing.js';
import { Errno, ProtocolError, decodeReplyLines, encodeRequest, parseLine, type Pair, type Reply, type Request, type RowFilter } from './protocol.js';
import { CONNECTION_SCHEMA, EVENT_SCHEMA, HEALTH_SCHEMA, INTERFACE_SCHEMA, PING_REPLY_SCHEMA, decodeRow, decodeRows, decodeStatus, type RowSchema } from './rows.js';
import type { ConnectionRow, EventRow, HealthRow, InterfaceRow, PingReplyRow, StatusRow } from './rows.js';
import { errnoName } from '../abi/errno.js';
import { parseDottedQuad } from '../abi/inet.js';

/** What went wrong: the CLI maps all of these to exit status 2. */
export type ControlFailure = 'not-running' | 'permission' | 'timeout' | 'protocol' | 'daemon' | 'io';

export class ControlClientError extends Error {
  constructor(
    readonly kind: ControlFailure,
    message: string,
    /** The daemon's negative errno when kind is 'daemon' or 'protocol'. */
    readonly errno?: number,
  ) {
    super(message);
    this.name = 'ControlClientError';
  }
}

export interface ControlClientOptions {
  /** Longest silence from the daemon before giving up (ping adds its interval). */
  timeoutMs?: number;
  /** Largest reply accepted, in bytes. */
  maxReplyBytes?: number;
}

export class ControlClient {
  private readonly timeoutMs: number;
  private readonly maxReplyBytes: number;

  constructor(
    readonly socketPath: string,
    options: ControlClientOptions = {},
  ) {
    this.timeoutMs = options.timeoutMs ?? 5000;
    this.maxReplyBytes = options.maxReplyBytes ?? 64 << 20;
  }

  async status(): Promise<StatusRow> {
    return this.decoded(decodeStatus((await this.request({ kind: 'get', what: 'status' })).body));
  }

  async interfaces(): Promise<InterfaceRow[]> {
    return this.decoded(decodeRows<InterfaceRow>(INTERFACE_SCHEMA, (await this.request({ kind: 'get', what: 'interfaces' })).body));
  }

  /** The daemon's connections and calls, those passing `filter` (applied by msnld). */
  async connections(filter?: RowFilter): Promise<ConnectionRow[]> {
    const rows: ConnectionRow[] = [];
    await this.eachConnection(filter, (row) => rows.push(row));
    return rows;
  }

  /** As connections(), each row handed to `onRow` as it arrives and not kept (a reply of any size). */
  async eachConnection(filter: RowFilter | undefined, onRow: (row: ConnectionRow) => void): Promise<void> {
    await this.eachRow<ConnectionRow>(CONNECTION_SCHEMA, { kind: 'get', what: 'connections', filter }, onRow);
  }

  /** Tunnel health rows, those passing `filter` (applied by msnld). */
  async health(filter?: RowFilter): Promise<HealthRow[]> {
    const rows: HealthRow[] = [];
    await this.eachHealth(filter, (row) => rows.push(row));
    return rows;
  }

  /** As health(), each row handed to `onRow` as it arrives and not kept. */
  async eachHealth(filter: RowFilter | undefined, onRow: (row: HealthRow) => void): Promise<void> {
    await this.eachRow<HealthRow>(HEALTH_SCHEMA, { kind: 'get', what: 'health', filter }, onRow);
  }

  /**
   * A list reply of any size: rows are decoded as their lines arrive and handed to `onRow`; the
   * lines are not kept (no maxReplyBytes bound applies). A bad row stops the hand-over and the
   * reply then fails as a protocol error.
   */
  private async eachRow<T>(schema: RowSchema, request: Request, onRow: (row: T) => void): Promise<void> {
    const contextKey = schema.fields[0]!.key;
    let item: Pair[] = [];
    let failure: ProtocolError | undefined;
    const flush = (): void => {
      if (item.length === 0 || failure !== undefined) return;
      const row = decodeRow<T>(schema, item);
      item = [];
      if (row instanceof ProtocolError) failure = row;
      else onRow(row);
    };
    const onLine = (line: string, index: number): boolean => {
      if (index === 0) return true; // protocol_version: kept, checked with the reply
      const pair = parseLine(line);
      if (pair instanceof ProtocolError) return true; // kept: reported with the reply
      if (pair[0] === 'message' || pair[0] === 'errno') {
        flush();
        return true;
      }
      if (pair[0] === contextKey) flush();
      else if (item.length === 0 && failure === undefined) failure = new ProtocolError(Errno.EINVAL, `key "${pair[0]}" comes before any "${contextKey}"`);
      item.push(pair);
      return false;
    };
    await this.request(request, { onLine, stream: true });
    if (failure !== undefined) throw this.protocolError(failure);
  }

  async reload(): Promise<void> {
    await this.request({ kind: 'reload' });
  }

  /** Asks msnld to apply what changed in the database now, and waits until it has. */
  async sync(): Promise<void> {
    await this.request({ kind: 'sync' });
  }

  async disconnect(id: number): Promise<void> {
    await this.request({ kind: 'disconnect', id });
  }

  /**
   * Pings an MSNL address through the daemon; `onReply` sees each reply as it arrives. Resolves
   * when the daemon is done, or at once (without error) when `signal` aborts.
   */
  async ping(addressText: string, count: number, intervalMs: number, onReply: (reply: PingReplyRow) => void, signal?: AbortSignal): Promise<void> {
    const address = parseDottedQuad(addressText, 'MSNL address');
    if (typeof address !== 'number') throw address;
    let item: Pair[] = [];
    let failure: ProtocolError | undefined;
    const flush = (): void => {
      if (item.length === 0 || failure !== undefined) return;
      const row = decodeRow<PingReplyRow>(PING_REPLY_SCHEMA, item);
      item = [];
      if (row instanceof ProtocolError) failure = row;
      else onReply(row);
    };
    const onLine = (line: string, index: number): void => {
      if (index === 0) return; // protocol_version, checked with the whole reply
      const pair = parseLine(line);
      if (pair instanceof ProtocolError) return; // reported with the whole reply
      if (pair[0] === 'seq' || pair[0] === 'message' || pair[0] === 'errno') flush();
      if (pair[0] !== 'message' && pair[0] !== 'errno') item.push(pair);
      if (pair[0] === 'bytes') flush(); // the last key of a reply: show it now, not at the next one
    };
    const request: Request = { kind: 'ping', address, addressText, count, intervalMs };
    await this.request(request, { onLine, signal, timeoutMs: this.timeoutMs + intervalMs });
    if (failure !== undefined) throw this.protocolError(failure);
  }

  /**
   * Follows msnld's events (`monitor=1`); `onEvent` sees each as it arrives. Runs until `signal`
   * aborts (then resolves) or msnld goes away (then rejects). No reply timeout: events may be rare.
   */
  async monitor(onEvent: (event: EventRow) => void, signal?: AbortSignal): Promise<void> {
    let item: Pair[] = [];
    let failure: ProtocolError | undefined;
    const onLine = (line: string, index: number): void => {
      if (index === 0 || failure !== undefined) return;
      const pair = parseLine(line);
      if (pair instanceof ProtocolError || pair[0] === 'message' || pair[0] === 'errno') return; // reported with the whole reply
      item.push(pair);
      if (pair[0] !== 'time_ms') return;
      const row = decodeRow<EventRow>(EVENT_SCHEMA, item);
      item = [];
      if (row instanceof ProtocolError) failure = row;
      else onEvent(row);
    };
    await this.request({ kind: 'monitor' }, { onLine, signal, timeoutMs: 0 });
    if (failure !== undefined) throw this.protocolError(failure);
  }

  /** Sends one request and collects its reply; a non-zero errno becomes a 'daemon' error. */
  async request(
    request: Request,
    extra: { onLine?: (line: string, index: number) => boolean | void; signal?: AbortSignal; timeoutMs?: number; stream?: boolean } = {},
  ): Promise<Reply> {
    const lines = await this.exchange(encodeRequest(request), extra.onLine, extra.signal, extra.timeoutMs ?? this.timeoutMs, extra.stream ?? false);
    if (lines === undefined) return { errno: 0, message: undefined, body: [] }; // aborted by the caller
    const reply = decodeReplyLines(lines);
    if (reply instanceof ProtocolError) throw this.protocolError(reply);
    if (reply.errno !== Errno.OK) throw new ControlClientError('daemon', reply.message ?? `msnld answered ${errnoName(-reply.errno)}`, reply.errno);
    return reply;
  }

  private decoded<T>(value: T | ProtocolError): T {
    if (value instanceof ProtocolError) throw this.protocolError(value);
    return value;
  }

  private protocolError(error: ProtocolError): ControlClientError {
    return new ControlClientError('protocol', `msnld sent a bad reply on ${this.socketPath}: ${error.message}`, error.errno);
  }

  /**
   * The raw exchange: the reply's lines up to its blank line, or undefined when aborted. With
   * `stream`, a line for which onLine returns false is handed over and not kept, and the reply
   * may be of any size.
   */
  private exchange(
    text: string,
    onLine: ((line: string, index: number) => boolean | void) | undefined,
    signal: AbortSignal | undefined,
    timeoutMs: number,
    stream: boolean,
  ): Promise<string[] | undefined> {
    return new Promise((resolve, reject) => {
      const socket = net.connect(this.socketPath);
      const reader = new LineReader();
      const lines: string[] = [];
      let received = 0;
      let seen = 0;
      let last: string | undefined;
      let done = false;
      const finish = (error: ControlClientError | undefined, result?: string[]): void => {
        if (done) return;
        done = true;
        signal?.removeEventListener('abort', onAbort);
        socket.destroy();
        if (error !== undefined) reject(error);
        else resolve(result);
      };
      const onAbort = (): void => finish(undefined, undefined);
      if (signal?.aborted) return finish(undefined, undefined);
      signal?.addEventListener('abort', onAbort);
      socket.setTimeout(timeoutMs, () => finish(new ControlClientError('timeout', `msnld did not answer within ${timeoutMs} ms on ${this.socketPath}`)));
      socket.on('connect', () => socket.write(text));
      socket.on('data', (chunk: Buffer) => {
        received += chunk.length;
        if (!stream && received > this.maxReplyBytes) return finish(new ControlClientError('protocol', `msnld sent a reply larger than ${this.maxReplyBytes} bytes on ${this.socketPath}`));
        for (const line of reader.push(chunk)) {
          if (line === '') {
            if (last !== undefined && last.startsWith('errno=')) return finish(undefined, lines);
            return finish(new ControlClientError('protocol', `msnld sent a blank line before errno on ${this.socketPath}`));
          }
          const keep = onLine?.(line, seen);
          seen++;
          last = line;
          if (!stream || keep !== false) lines.push(line);
        }
        if (reader.overflow) finish(new ControlClientError('protocol', `msnld sent an overlong line on ${this.socketPath}`));
      });
      socket.on('end', () => finish(new ControlClientError('io', `msnld closed the control connection on ${this.socketPath} before answering`)));
      socket.on('error', (err: NodeJS.ErrnoException) => finish(describeSocketError(err, this.socketPath)));
    });
  }
}

/** Maps a socket error to the message the CLI prints (ENOENT/ECONNREFUSED: not running; EACCES: permission). */
export function describeSocketError(err: NodeJS.ErrnoException, socketPath: string): ControlClientError {
  switch (err.code) {
    case 'ENOENT':
    case 'ECONNREFUSED':
      return new ControlClientError('not-running', `msnld is not running (no control socket at ${socketPath})`);
    case 'EACCES':
    case 'EPERM':
      return new ControlClientError('permission', `permission denied on ${socketPath} (run as root)`);
    default:
      return new ControlClientError('io', `failed to talk to msnld on ${socketPath}: ${err.message}`);
  }
}
