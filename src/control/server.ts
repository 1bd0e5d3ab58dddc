// The control socket of msnld: a unix stream socket speaking the protocol of protocol.ts. The
// socket is made under umask 077 and chmod 0600 (root only); its file's path and the handling of
// one already there are socket-file.ts's (re-exported here for msnld).
// Requests on one connection are answered one at a time, in order; reload, sync and disconnect are
// also serialised across connections (one queue, like wg-go's ipcMutex).

import fs from 'node:fs';
import net from 'node:net';
import { setImmediate as setImmediatePromise } from 'node:timers/promises';
import { ControlError, type ControlHandler } from './handler.js';
import { defaultSocketPath, prepareSocketPath, removeOwnSocket } from './socket-file.js';
import { RequestAssembler } from './framing.js';
import { Errno, REPLY_HEAD, encodePairs, encodeReplyEnd, matchesFilter, type Pair, type Request, type RowFilter } from './protocol.js';
import { CONNECTION_SCHEMA, EVENT_SCHEMA, HEALTH_SCHEMA, INTERFACE_SCHEMA, PING_REPLY_SCHEMA, encodeRow, encodeRowText, encodeRows, encodeStatus, type RowSchema } from './rows.js';

export { DEFAULT_SOCKET_PATH, MAX_SOCKET_PATH_OCTETS, defaultSocketPath, probeSocket, socketPathProblem } from './socket-file.js';

export interface ControlServerOptions {
  /**
   * Most clients served at once. A newcomer over the limit closes the client that has waited
   * longest without a request in progress; when every client has one, the newcomer gets EBUSY.
   */
  maxClients?: number;
  /** A client with no request queued or in progress for this long is closed (ETIMEDOUT). */
  idleTimeoutMs?: number;
  /** How long a closed client may still read its error reply before its socket is destroyed. */
  lingerMs?: number;
  /** A client that lets this many reply bytes pile up unread is dropped. */
  maxPendingWrite?: number;
  /**
   * A list reply (connections, health) is written in chunks of about this many bytes, and the
   * next chunk waits until the client has read the ones before (any size, bounded memory).
   */
  chunkBytes?: number;
  /** How long the stale-socket probe waits for an answer. */
  probeTimeoutMs?: number;
  /** Called with `failed to ...` lines for the daemon's log (verbose level). */
  log?: (line: string) => void;
}

/** Defaults of ControlServerOptions, as msnld(8) LIMITS documents them. */
export const CONTROL_LIMITS = Object.freeze({
  maxClients: 64,
  idleTimeoutMs: 10_000,
  lingerMs: 1000,
  maxPendingWrite: 1 << 20,
  chunkBytes: 64 << 10,
  // Connections the kernel queues before msnld accepts them (capped by net.core.somaxconn).
  // Node's 511 filled during a burst of 2000 connects, and a client then got EAGAIN.
  backlog: 4096,
});

/** Where one reply goes: write() queues text; drained() waits until the client has read it. */
interface ReplySink {
  readonly write: (text: string) => void;
  readonly drained: () => Promise<boolean>;
}

interface Client {
  readonly socket: net.Socket;
  /** A request is queued or being answered: such a client is never evicted nor timed out. */
  busy: boolean;
  /** Order of the last time the client became idle: the smallest is evicted first. */
  idleSince: number;
  idleTimer: NodeJS.Timeout | undefined;
}

export class ControlServer {
  private server: net.Server | undefined;
  /** Every accepted socket, served, refused or closing: close() destroys them all. */
  private readonly sockets = new Set<net.Socket>();
  /** The served clients (at most maxClients). */
  private readonly clients = new Map<net.Socket, Client>();
  private sequence = 0;
  private mutations: Promise<unknown> = Promise.resolve();
  private socketInode: number | undefined;
  private readonly maxClients: number;
  private readonly idleTimeoutMs: number;
  private readonly lingerMs: number;
  private readonly maxPendingWrite: number;
  private readonly chunkBytes: number;
  private readonly probeTimeoutMs: number;
  private readonly log: (line: string) => void;

  constructor(
    private readonly handler: ControlHandler,
    readonly socketPath: string = defaultSocketPath(),
    options: ControlServerOptions = {},
  ) {
    this.maxClients = options.maxClients ?? CONTROL_LIMITS.maxClients;
    this.idleTimeoutMs = options.idleTimeoutMs ?? CONTROL_LIMITS.idleTimeoutMs;
    this.lingerMs = options.lingerMs ?? CONTROL_LIMITS.lingerMs;
    this.maxPendingWrite = options.maxPendingWrite ?? CONTROL_LIMITS.maxPendingWrite;
    this.chunkBytes = Math.max(1024, Math.min(options.chunkBytes ?? CONTROL_LIMITS.chunkBytes, this.maxPendingWrite >> 2));
    this.probeTimeoutMs = options.probeTimeoutMs ?? 1000;
    this.log = options.log ?? (() => {});
  }

  /** Creates the socket; rejects with `failed to listen on control socket PATH: CAUSE`. */
  async listen(): Promise<void> {
    const failure = (cause: string): Error => new Error(`failed to listen on control socket ${this.socketPath}: ${cause}`);
    const problem = await prepareSocketPath(this.socketPath, this.probeTimeoutMs, this.log);
    if (problem !== undefined) throw failure(problem);
    const server = net.createServer({ allowHalfOpen: true }, (socket) => this.accept(socket));
    const oldMask = process.umask(0o077);
    try {
      await new Promise<void>((resolve, reject) => {
        server.once('error', reject);
        server.listen({ path: this.socketPath, backlog: CONTROL_LIMITS.backlog }, () => {
          server.off('error', reject);
          resolve();
        });
      });
    } catch (err) {
      throw failure((err as Error).message);
    } finally {
      process.umask(oldMask);
    }
    fs.chmodSync(this.socketPath, 0o600);
    this.socketInode = fs.statSync(this.socketPath).ino;
    server.on('error', (err) => this.log(`failed to accept on control socket ${this.socketPath}: ${err.message}`));
    this.server = server;
  }

  /** Stops listening, drops every client (aborting their pings) and removes the socket file. */
  async close(): Promise<void> {
    const server = this.server;
    this.server = undefined;
    // Destroy every socket, refused and closing ones too: server.close() waits for all of them.
    for (const socket of this.sockets) socket.destroy();
    this.sockets.clear();
    this.clients.clear();
    if (server === undefined) return;
    await new Promise<void>((resolve) => server.close(() => resolve()));
    removeOwnSocket(this.socketPath, this.socketInode);
  }

  /** Number of served clients (for tests and the status counters). */
  get clientCount(): number {
    return this.clients.size;
  }

  /** Number of open sockets, refused and closing ones included. */
  get connectionCount(): number {
    return this.sockets.size;
  }

  private accept(socket: net.Socket): void {
    // Every socket gets its error handler first: a client that resets the connection (ECONNRESET,
    // EPIPE) must never become an unhandled 'error' event, refused clients included.
    socket.on('error', () => socket.destroy());
    this.sockets.add(socket);
    socket.once('close', () => this.sockets.delete(socket));
    if (this.clients.size >= this.maxClients && !this.evictIdlest()) {
      this.dismiss(socket, Errno.EBUSY, 'too many control clients');
      return;
    }
    this.serveClient(socket);
  }

  /**
   * Makes room by closing the client that has waited longest without a request in progress.
   * False when every client has one (endless pings, say): the newcomer is refused instead.
   */
  private evictIdlest(): boolean {
    let idlest: Client | undefined;
    for (const client of this.clients.values()) {
      if (!client.busy && (idlest === undefined || client.idleSince < idlest.idleSince)) idlest = client;
    }
    if (idlest === undefined) return false;
    this.log('closing the longest idle control client to make room for another');
    this.clients.delete(idlest.socket);
    this.dismiss(idlest.socket, Errno.ETIMEDOUT, 'closed to make room for another control client');
    return true;
  }

  /**
   * Ends a connection for good: writes the error reply (if any and if the socket can still take
   * it), half-closes, and from then on reads and discards whatever the client sends so that its
   * close is seen. Destroyed after lingerMs at the latest, so a client that neither reads nor
   * closes cannot keep the descriptor.
   */
  private dismiss(socket: net.Socket, errno?: number, message?: string): void {
    if (socket.destroyed) return;
    this.clients.delete(socket);
    socket.removeAllListeners('data');
    socket.on('data', () => undefined);
    if (!socket.writableEnded) {
      if (errno === undefined) socket.end();
      else socket.end(REPLY_HEAD + encodeReplyEnd(errno, message));
    }
    socket.resume();
    const timer = setTimeout(() => socket.destroy(), this.lingerMs);
    socket.once('close', () => clearTimeout(timer));
  }

  private serveClient(socket: net.Socket): void {
    const client: Client = { socket, busy: false, idleSince: ++this.sequence, idleTimer: undefined };
    this.clients.set(socket, client);
    const assembler = new RequestAssembler();
    // Made only for a request that can be aborted (ping, monitor): an abort() on every close
    // builds a DOMException with a stack, a cost 2000 abusive clients would pay for nothing.
    let abort: AbortController | undefined;
    let gone = false;
    const signal = (): AbortSignal => (gone ? AbortSignal.abort() : (abort ??= new AbortController()).signal);
    const queue: Array<() => Promise<void>> = [];
    let closing = false;

    // The idle clock runs while no request is queued or being answered; bytes of an unfinished
    // request do not reset it, so a client dripping one byte a second is closed like a silent one.
    const armIdle = (): void => {
      clearTimeout(client.idleTimer);
      client.idleSince = ++this.sequence;
      client.idleTimer = setTimeout(() => {
        this.log(`closing control client: no request for ${this.idleTimeoutMs} ms`);
        this.dismiss(socket, Errno.ETIMEDOUT, `no request for ${this.idleTimeoutMs} ms`);
      }, this.idleTimeoutMs);
    };
    const write = (text: string): void => {
      if (socket.destroyed || socket.writableEnded) return;
      socket.write(text);
      if (socket.writableLength > this.maxPendingWrite) {
        this.log('failed to answer control client: it does not read its replies');
        socket.destroy();
      }
    };
    // Waits until the client has read all but one chunk of what was written; false when the
    // socket is gone, or the client read nothing for idleTimeoutMs (then it is destroyed).
    const drained = (): Promise<boolean> => {
      if (socket.destroyed || socket.writableEnded) return Promise.resolve(false);
      if (socket.writableLength <= this.chunkBytes) return Promise.resolve(true);
      return new Promise((resolve) => {
        const done = (ok: boolean): void => {
          clearTimeout(timer);
          socket.off('drain', onDrain);
          socket.off('close', onClose);
          resolve(ok);
        };
        const onDrain = (): void => done(true);
        const onClose = (): void => done(false);
        const timer = setTimeout(() => {
          this.log(`failed to answer control client: it read nothing for ${this.idleTimeoutMs} ms`);
          socket.destroy();
          done(false);
        }, this.idleTimeoutMs);
        socket.on('drain', onDrain);
        socket.once('close', onClose);
      });
    };
    const sink: ReplySink = { write, drained };
    const run = async (): Promise<void> => {
      if (client.busy || (queue.length === 0 && !closing)) return; // a partial request: the idle clock runs on
      client.busy = true;
      clearTimeout(client.idleTimer);
      socket.pause();
      while (queue.length > 0 && !socket.destroyed) await queue.shift()!();
      client.busy = false;
      if (socket.destroyed || socket.writableEnded) return;
      if (closing) {
        // The client half-closed: end our side; one that then never reads its replies is
        // destroyed by dismiss's bound once the idle time has passed.
        socket.end();
        armIdle();
        return;
      }
      armIdle();
      socket.resume();
    };

    armIdle();
    socket.on('data', (chunk: Buffer) => {
      for (const event of assembler.push(chunk)) {
        if (event.type === 'request') {
          const request = event.request;
          queue.push(() => this.serve(request, sink, signal));
        } else {
          const { error, fatal } = event;
          if (fatal) {
            // The rest of the stream cannot be parsed: answer, then close whatever the client does.
            queue.push(async () => this.dismiss(socket, error.errno, error.message));
            break;
          }
          queue.push(async () => write(REPLY_HEAD + encodeReplyEnd(error.errno, error.message)));
        }
      }
      void run();
    });
    socket.on('end', () => {
      closing = true;
      if (!client.busy) void run();
    });
    socket.on('close', () => {
      clearTimeout(client.idleTimer);
      gone = true;
      abort?.abort();
      if (this.clients.get(socket) === client) this.clients.delete(socket);
    });
  }

  /** Answers one request; never rejects. */
  private async serve(request: Request, sink: ReplySink, signal: () => AbortSignal): Promise<void> {
    const write = sink.write;
    write(REPLY_HEAD);
    try {
      const body = await this.body(request, sink, signal);
      write(encodePairs(body) + encodeReplyEnd(0));
    } catch (err) {
      const errno = err instanceof ControlError ? err.errno : Errno.EIO;
      const message = err instanceof Error ? err.message : String(err);
      write(encodeReplyEnd(errno < 0 ? errno : Errno.EIO, message));
    }
  }

  private async body(request: Request, sink: ReplySink, signal: () => AbortSignal): Promise<Pair[]> {
    const h = this.handler;
    const write = sink.write;
    switch (request.kind) {
      case 'get':
        switch (request.what) {
          case 'status':
            return encodeStatus(await h.status());
          case 'interfaces':
            return encodeRows(INTERFACE_SCHEMA, await h.interfaces());
          case 'connections':
            await this.streamRows(CONNECTION_SCHEMA, await h.connections(), request.filter, sink);
            return [];
          case 'health':
            await this.streamRows(HEALTH_SCHEMA, await h.health(), request.filter, sink);
            return [];
        }
        break;
      case 'reload':
        await this.serialised(() => h.reload());
        return [];
      case 'sync':
        await this.serialised(() => h.sync());
        return [];
      case 'disconnect':
        await this.serialised(() => h.disconnect(request.id));
        return [];
      case 'ping':
        await h.ping(request.address, request.count, request.intervalMs, (reply) => write(encodePairs(encodeRow(PING_REPLY_SCHEMA, reply))), signal());
        return [];
      case 'monitor':
        if (h.monitor === undefined) throw new ControlError(Errno.EOPNOTSUPP, 'monitor is not supported');
        await h.monitor((event) => write(encodePairs(encodeRow(EVENT_SCHEMA, event))), signal());
        return [];
    }
    throw new ControlError(Errno.EOPNOTSUPP, 'request not supported');
  }

  /**
   * Writes the rows that pass the filter in chunks of about chunkBytes, each after the client has
   * read the ones before: a reply of any size holds at most two chunks of text in msnld.
   */
  private async streamRows(schema: RowSchema, rows: Iterable<object>, filter: RowFilter | undefined, sink: ReplySink): Promise<void> {
    let text = '';
    for (const row of rows) {
      if (!matchesFilter(filter, row as { interface: string; peer_ip: string; state: string })) continue;
      text += encodeRowText(schema, row);
      if (text.length < this.chunkBytes) continue;
      sink.write(text);
      text = '';
      if (!(await sink.drained())) throw new ControlError(Errno.EIO, 'the client went away');
      // A client that reads as fast as msnld writes never makes drained() wait: without this turn
      // of the event loop a long reply would be made in one go, and nothing else answered meanwhile.
      await setImmediatePromise();
    }
    if (text !== '') sink.write(text);
  }

  private serialised(operation: () => void | Promise<void>): Promise<void> {
    const next = this.mutations.then(operation);
    this.mutations = next.catch(() => undefined);
    return next;
  }
}
