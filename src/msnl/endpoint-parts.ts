// The parts an MSNL endpoint is made of and their wiring: the connection table, signalling,
// reassembly, echoes, the secure layer, path probes, exits, the data send and receive paths, and
// what goes out (frame-out.ts). MsnlEndpoint (endpoint.ts) extends this with the operations and
// the timers; the parts call back into it through the abstract methods below. The receive path is
// receive-path.ts, the data send path data-send.ts, a connection's exits exit-paths.ts, path MTU and
// the size-probe budget path-probes.ts, what goes out (counted, and the probe and reset frames) frame-out.ts.

import type { Clock } from '../base/clock.js';
import { cryptoRandom, type RandomSource } from '../base/random.js';
import type { Connection } from './connection.js';
import { ConnectionTable } from './connection-table.js';
import { DataSend } from './data-send.js';
import { Echoes } from './echoes.js';
import { defaultLinkBytes, type EndpointOptions } from './endpoint-options.js';
import { ExitPaths } from './exit-paths.js';
import { FrameOut } from './frame-out.js';
import { PathProbes } from './path-probes.js';
import { ReceivePath } from './receive-path.js';
import { Reassembler } from './sar.js';
import { SecureLayer, type SecureHost } from './secure.js';
import { Signalling } from './signalling.js';
import type { SignallingHost } from './signalling-types.js';
import { DEFAULT_ENDPOINT_CONFIG, newCounters, type EndpointConfig, type EndpointCounters, type EndpointEvents } from './types.js';

export abstract class EndpointParts<L> {
  readonly clock: Clock;
  readonly random: RandomSource;
  readonly config: EndpointConfig;
  readonly counters: EndpointCounters = newCounters();
  readonly events: EndpointEvents<L>;
  protected address: number;
  protected readonly sameLink: (a: L, b: L) => boolean;
  protected readonly conns = new ConnectionTable<L>();
  protected readonly echoes: Echoes;
  /** Asks the shell to call tick() at this time (ms on the clock) at the latest. */
  protected readonly wake: (at: number) => void;
  protected readonly signalling: Signalling<L>;
  protected readonly reassembler: Reassembler;
  /** Every datagram out, counted; the probe and reset frames. */
  protected readonly frames: FrameOut<L>;
  protected readonly paths: PathProbes<L>;
  protected readonly exitPaths: ExitPaths<L>;
  protected readonly dataSend: DataSend<L>;
  protected readonly receivePath: ReceivePath<L>;
  protected readonly secure: SecureLayer<L>;
  protected readonly peerKeyOf: (address: number) => Uint8Array | 'none' | undefined;
  protected readonly exitsOf: EndpointOptions<L>['exitsOf'];
  protected readonly ago: () => number;

  constructor(options: EndpointOptions<L>) {
    this.address = options.localAddress >>> 0;
    this.clock = options.clock;
    this.random = options.random ?? cryptoRandom();
    this.events = options.events;
    this.config = { ...DEFAULT_ENDPOINT_CONFIG, ...options.config };
    this.sameLink = options.sameLink ?? ((a, b) => a === b);
    this.signalling = new Signalling(this.signallingHost());
    this.reassembler = new Reassembler(this.clock, this.config.reassembly, options.aead?.copyRuns?.bind(options.aead));
    const frames = (this.frames = new FrameOut<L>(this.counters, options.transmit, this.config, this.clock));
    this.peerKeyOf = options.peerKeyOf ?? (() => 'none');
    this.exitsOf = options.exitsOf;
    this.ago = options.receivedAgo ?? (() => NaN);
    this.echoes = new Echoes(this.config.echoTimeoutMs);
    this.wake = options.wake ?? (() => undefined);
    const wallClock = options.wallClock ?? Date.now;
    const linkBytes = options.linkBytes ?? defaultLinkBytes;
    const host: SecureHost<L> = {
      clock: this.clock, random: this.random, config: this.config, counters: this.counters,
      ...(options.aead === undefined ? {} : { aead: options.aead }),
      ...(options.scheduleSeals === undefined ? {} : { scheduleSeals: options.scheduleSeals }),
      ...(options.scheduleIdle === undefined ? {} : { scheduleIdle: options.scheduleIdle }),
      scheduleAt: (at) => this.scheduleAt(at),
      peerKeyOf: (address) => this.peerKeyOf(address),
      sameLink: this.sameLink,
      linkBytes,
      wallClockMs: wallClock,
      transmit: (link, buf, offset, length) => frames.outFrame(link, buf, offset, length),
      ...(options.transmitRun === undefined ? {} : { transmitRun: frames.outRun(options.transmitRun) }),
      findConnection: (id) => this.conns.get(id),
      signal: (msg, link) => this.signalling.onSignal(msg, link, true),
      inner: (conn, buf, offset, length, link) => this.receivePath.inner(conn, buf, offset, length, link),
      joinSegments: (source) => this.reassembler.deferCopies(source),
      authFailed: (address, reason) => this.events.authFailed?.(address, reason),
    };
    this.secure = new SecureLayer(host);
    this.secure.setIdentity(options.identity ?? null);
    this.paths = new PathProbes(this.config, this.clock, {
      counters: this.counters,
      isOpen: (conn) => this.conns.get(conn.connId) === conn,
      unschedule: (conn) => {
        if (this.conns.deadlines.at(conn) !== undefined) this.conns.deadlines.delete(conn);
      },
      connOut: (conn, bytes) => this.connOut(conn, bytes),
      pathLimitOf: options.pathLimitOf,
      sameLink: (a, b) => this.sameLink(a, b),
      pathKeyOf: options.pathKeyOf,
    });
    this.exitPaths = new ExitPaths({
      counters: this.counters, events: this.events, sameLink: this.sameLink,
      sealTo: (conn, bytes, to) => void this.secure.sealAndSend(conn, bytes, 0, bytes.length, null, to),
      out: (link, bytes) => frames.out(link, bytes),
      reschedule: (conn) => this.reschedule(conn),
      takeSizeProbe: () => this.paths.take(),
    });
    this.dataSend = new DataSend({
      outFrame: (link, buf, offset, length) => frames.outFrame(link, buf, offset, length),
      sealAndSend: (conn, buf, offset, length, head) => this.secure.sealAndSend(conn, buf, offset, length, head),
      sealPacket: (conn, head, buf, offset, length, chunk) => this.secure.sealPacket(conn, head, buf, offset, length, chunk),
    });
    const endpoint = this;
    this.receivePath = new ReceivePath<L>({
      clock: this.clock, counters: this.counters, events: this.events, sameLink: this.sameLink,
      get localAddress() {
        return endpoint.address;
      },
      conns: this.conns, reassembler: this.reassembler, echoes: this.echoes, secure: this.secure,
      signalling: this.signalling, exitPaths: this.exitPaths,
      peerKeyOf: (address) => this.peerKeyOf(address),
      closeConnection: (conn, reason, byPeer) => this.closeConnection(conn, reason, byPeer),
      sendReset: (link, connId, reason) => this.sendReset(link, connId, reason),
      out: (link, bytes) => frames.out(link, bytes),
      connOut: (conn, bytes) => this.connOut(conn, bytes),
      sendProbe: (conn, type, seq, stamp, code) => this.sendProbe(conn, type, seq, stamp, code),
      reschedule: (conn) => this.reschedule(conn),
    });
  }

  /** The host signalling calls back into: the endpoint itself. */
  protected abstract signallingHost(): SignallingHost<L>;
  /** Something is due at `at`: the shell is asked to tick by then. */
  abstract scheduleAt(at: number): void;
  /** Sends one MSNL frame on a connection: sealed when it is keyed, as it is otherwise. */
  protected abstract connOut(conn: Connection<L>, bytes: Uint8Array): void;
  /** A connection's timers changed outside tick(): its place in the deadline heap follows. */
  protected abstract reschedule(conn: Connection<L>): void;
  abstract closeConnection(conn: Connection<L>, reason: number, byPeer: boolean): void;
  abstract sendReset(link: L, connId: number, reason: number): void;
  abstract sendProbe(conn: Connection<L>, type: 8 | 9, seq: number, stamp: number, code: 0 | 3 | 4): void;
}
