// The control socket of msnld: a unix stream socket speaking the protocol of protocol.ts. The
// socket is made under umask 077 and chmod 0600 (root only). An existing socket file is probed:
// if something answers, msnld refuses to start; if nothing does, the file is stale and replaced.
// Requests on one connection are answered one at a time, in order; reload and disconnect are
// also serialised across connections (one queue, like wg-go's ipcMutex).

import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { ControlError, type ControlHandler } from './handler.js';
import { Errno, REPLY_HEAD, RequestAssembler, encodePairs, encodeReplyEnd, type Pair, type Request } from './protocol.js';
import { CONNECTION_SCHEMA, HEALTH_SCHEMA, INTERFACE_SCHEMA, PING_REPLY_SCHEMA, encodeRow, encodeRows, encodeStatus } from './rows.js';

export const DEFAULT_SOCKET_PATH = '/run/msnl/msnld.sock';

/** The socket path: MSNL_SOCKET when set, else the default. */
export function defaultSocketPath(env: NodeJS.ProcessEnv = process.env): string {
  const fromEnv = env.MSNL_SOCKET;
  return fromEnv !== undefined && fromEnv !== '' ? fromEnv : DEFAULT_SOCKET_PATH;
}

export interface ControlServerOptions {
  /** Most simultaneous client connections; more are closed at once. */
  maxClients?: number;
  /** A client that lets this many reply bytes pile up unread is dropped. */
  maxPendingWrite?: number;
  /** How long the stale-socket probe waits for an answer. */
  probeTimeoutMs?: number;
  /** Called with `failed to ...` lines for the daemon's log (verbose level). */
  log?: (line: string) => void;
}

export class ControlServer {
  private server: net.Server | undefined;
  private readonly clients = new Set<net.Socket>();
  private mutations: Promise<unknown> = Promise.resolve();
  private socketInode: number | undefined;
  private readonly maxClients: number;
  private readonly maxPendingWrite: number;
  private readonly probeTimeoutMs: number;
  private readonly log: (line: string) => void;

  constructor(
    private readonly handler: ControlHandler,
    readonly socketPath: string = defaultSocketPath(),
    options: ControlServerOptions = {},
  ) {
    this.maxClients = options.maxClients ?? 64;
    this.maxPendingWrite = options.maxPendingWrite ?? 1 << 20;
    this.probeTimeoutMs = options.probeTimeoutMs ?? 1000;
    this.log = options.log ?? (() => {});
  }

  /** Creates the socket; rejects with `failed to listen on control socket PATH: CAUSE`. */
  async listen(): Promise<void> {
    const failure = (cause: string): Error => new Error(`failed to listen on control socket ${this.socketPath}: ${cause}`);
    fs.mkdirSync(path.dirname(this.socketPath), { recursive: true, mode: 0o755 });
    let existing: fs.Stats | undefined;
    try {
      existing = fs.lstatSync(this.socketPath);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw failure((err as Error).message);
    }
    if (existing !== undefined) {
      if (!existing.isSocket()) throw failure('a file that is not a socket is in the way');
      const probe = await probeSocket(this.socketPath, this.probeTimeoutMs);
      if (probe instanceof Error) throw failure(probe.message);
      if (probe === 'in-use') throw failure('in use by another msnld');
      if (probe === 'stale') {
        this.log(`removing stale control socket ${this.socketPath}`);
        fs.rmSync(this.socketPath, { force: true });
      }
    }
    const server = net.createServer({ allowHalfOpen: true }, (socket) => this.accept(socket));
    const oldMask = process.umask(0o077);
    try {
      await new Promise<void>((resolve, reject) => {
        server.once('error', reject);
        server.listen(this.socketPath, () => {
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
    for (const socket of this.clients) socket.destroy();
    this.clients.clear();
    if (server === undefined) return;
    await new Promise<void>((resolve) => server.close(() => resolve()));
    try {
      // Remove only our own socket: a successor may already have replaced it.
      if (fs.statSync(this.socketPath).ino === this.socketInode) fs.rmSync(this.socketPath, { force: true });
    } catch {
      // already gone
    }
  }

  /** Number of connected clients (for tests and the status counters). */
  get clientCount(): number {
    return this.clients.size;
  }

  private accept(socket: net.Socket): void {
    if (this.clients.size >= this.maxClients) {
      socket.end(REPLY_HEAD + encodeReplyEnd(Errno.EBUSY, 'too many control clients'));
      return;
    }
    this.clients.add(socket);
    const assembler = new RequestAssembler();
    const abort = new AbortController();
    const queue: Array<() => Promise<void>> = [];
    let busy = false;
    let closing = false;

    const write = (text: string): void => {
      if (socket.destroyed) return;
      socket.write(text);
      if (socket.writableLength > this.maxPendingWrite) {
        this.log('failed to answer control client: it does not read its replies');
        socket.destroy();
      }
    };
    const run = async (): Promise<void> => {
      if (busy) return;
      busy = true;
      socket.pause();
      while (queue.length > 0 && !socket.destroyed) await queue.shift()!();
      busy = false;
      if (closing) socket.end();
      else if (!socket.destroyed) socket.resume();
    };

    socket.on('data', (chunk: Buffer) => {
      for (const event of assembler.push(chunk)) {
        if (event.type === 'request') {
          const request = event.request;
          queue.push(() => this.serve(request, write, abort.signal));
        } else {
          const { error, fatal } = event;
          queue.push(async () => write(REPLY_HEAD + encodeReplyEnd(error.errno, error.message)));
          if (fatal) closing = true;
        }
      }
      void run();
    });
    socket.on('end', () => {
      closing = true;
      if (!busy) socket.end();
    });
    socket.on('error', () => socket.destroy());
    socket.on('close', () => {
      abort.abort();
      this.clients.delete(socket);
    });
  }

  /** Answers one request; never rejects. */
  private async serve(request: Request, write: (text: string) => void, signal: AbortSignal): Promise<void> {
    write(REPLY_HEAD);
    try {
      const body = await this.body(request, write, signal);
      write(encodePairs(body) + encodeReplyEnd(0));
    } catch (err) {
      const errno = err instanceof ControlError ? err.errno : Errno.EIO;
      const message = err instanceof Error ? err.message : String(err);
      write(encodeReplyEnd(errno < 0 ? errno : Errno.EIO, message));
    }
  }

  private async body(request: Request, write: (text: string) => void, signal: AbortSignal): Promise<Pair[]> {
    const h = this.handler;
    switch (request.kind) {
      case 'get':
        switch (request.what) {
          case 'status':
            return encodeStatus(await h.status());
          case 'interfaces':
            return encodeRows(INTERFACE_SCHEMA, await h.interfaces());
          case 'connections':
            return encodeRows(CONNECTION_SCHEMA, await h.connections());
          case 'health':
            return encodeRows(HEALTH_SCHEMA, await h.health());
        }
        break;
      case 'reload':
        await this.serialised(() => h.reload());
        return [];
      case 'disconnect':
        await this.serialised(() => h.disconnect(request.id));
        return [];
      case 'ping':
        await h.ping(request.address, request.count, request.intervalMs, (reply) => write(encodePairs(encodeRow(PING_REPLY_SCHEMA, reply))), signal);
        return [];
    }
    throw new ControlError(Errno.EOPNOTSUPP, 'request not supported');
  }

  private serialised(operation: () => void | Promise<void>): Promise<void> {
    const next = this.mutations.then(operation);
    this.mutations = next.catch(() => undefined);
    return next;
  }
}

/**
 * Connects to an existing socket file: `in-use` if something accepts (or hangs), `stale` if the
 * connection is refused, `absent` if the file vanished, or the error for anything else.
 */
export function probeSocket(socketPath: string, timeoutMs: number): Promise<'in-use' | 'stale' | 'absent' | Error> {
  return new Promise((resolve) => {
    const socket = net.connect(socketPath);
    const timer = setTimeout(() => {
      socket.destroy();
      resolve('in-use'); // it accepted or hangs: someone owns it; do not steal it
    }, timeoutMs);
    socket.once('connect', () => {
      clearTimeout(timer);
      socket.destroy();
      resolve('in-use');
    });
    socket.once('error', (err: NodeJS.ErrnoException) => {
      clearTimeout(timer);
      resolve(err.code === 'ENOENT' ? 'absent' : err.code === 'ECONNREFUSED' ? 'stale' : err);
    });
  });
}
