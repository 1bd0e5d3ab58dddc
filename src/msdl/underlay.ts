// The underlay: the data links under MSNL, behind one interface in the manner of
// wireguard-go's conn.Bind. Its implementations sit beside it:
//   udp.ts         UdpUnderlay, msnld's: the native one below, for IPv4 and IPv6
//   udp-native.ts  NativeUdpUnderlay: IPv4 or IPv6 over the batched addon socket of udp-batch.ts
//   udp-dgram.ts   DgramUdpUnderlay: node:dgram, one datagram at a time (tests, tools)
//   memory.ts      MemoryUnderlay: an in-process hub with seeded faults, for whole daemons in tests
// A link value `L` names a peer on the underlay. MSNL stores links and hands them back, never looks
// inside; both UDP underlays use one endpoint type, UdpEndpoint (udp-endpoint.ts).
//
// Datagrams are never fragmented: a socket reports a datagram too big for its path through
// UnderlayEvents.tooBig, and pathLimit() gives a new link's starting size (the outgoing link's).
//
// Buffers are borrowed, never kept: send() consumes buf[offset, offset + length) before it returns,
// and a received datagram is valid during the onReceive call only, or, when onReceive is told
// `held`, until the socket calls UnderlayEvents.burstEnd (msnld opens sealed frames in place then).

import type { Logger } from '../base/logger.js';

/**
 * Gets each received datagram as buf[offset, offset + length) and the link it came from. `held`:
 * the socket leaves those octets as they are (and the receiver may change them in place) until it
 * calls UnderlayEvents.burstEnd, which it does before it reuses the buffer.
 */
export type ReceiveFunc<L> = (buf: Uint8Array, offset: number, length: number, link: L, held?: boolean) => void;

/** A bound underlay socket. */
export interface UnderlaySocket<L> {
  /** Sends one datagram, buf[offset, offset + length); never throws (failures are counted). */
  send(link: L, buf: Uint8Array, offset: number, length: number): void;
  /**
   * Sends `count` datagrams to `link` laid out end to end, each `stride` octets but the last
   * (`last`), which `fill(buf, at)` writes in place into the socket's own queue (no copy): true when
   * queued, false when dropped (counted; `fill` refused, or no room), null when this socket cannot
   * take the run (the caller sends them one by one). Optional.
   */
  sendRun?(link: L, count: number, stride: number, last: number, fill: (buf: Uint8Array, at: number) => boolean): boolean | null;
  /**
   * The datagram just sent is an answer someone waits for (a call's confirm): when it is the only
   * one queued in a burst of one, it goes out now instead of after the rest of the turn. Optional
   * (a socket that sends at once has nothing to do).
   */
  sendSoon?(): void;
  /**
   * How many milliseconds ago the host received the datagram being handed to onReceive now (it may
   * have waited in the socket's receive queue meanwhile: the kernel's receive time, SO_TIMESTAMPNS);
   * NaN outside onReceive or when unknown. Optional (unknown). The batched socket has the kernel
   * stamp datagrams only from the first call until calls stop: meant for connect requests.
   */
  receivedAgo?(): number;
  /**
   * Receives what is waiting, as a readable event would, and nothing when nothing is (one receive
   * call): msnld's warm-up runs it so a first call finds the socket's receive code warm. Optional.
   */
  pollNow?(): void;
  /** Stops receiving and releases the socket. Idempotent. */
  close(): Promise<void>;
  /** `HOST:PORT` actually bound. */
  describe(): string;
  /** What moves the datagrams, for the log (e.g. `batched IPv6`). */
  readonly kind?: string;
}

/** What a socket learns about the paths to its peers (optional; the MSNL endpoint takes them). */
export interface UnderlayEvents<L> {
  /**
   * A datagram to `link` was refused as too big for the path (by the local link, or by an ICMP
   * "fragmentation needed" from a router): `maxPayload` is the largest UDP payload the reported
   * MTU leaves, 0 when the report named none.
   */
  readonly tooBig?: (link: L, maxPayload: number) => void;
  /**
   * The datagrams received since the last call (handed to onReceive with `held`) are about to be
   * overwritten: whatever the receiver left to do with them in place is done now. A socket that
   * calls it passes `held` to onReceive; one that does not, never does.
   */
  readonly burstEnd?: () => void;
}

export interface Underlay<L> {
  /** Binds HOST:PORT and hands every datagram received to onReceive. */
  open(host: string, port: number, onReceive: ReceiveFunc<L>, events?: UnderlayEvents<L>): Promise<UnderlaySocket<L>>;
  /**
   * The largest UDP payload this host would send to `link` unfragmented as far as it knows now (the
   * outgoing link's MTU less the IP and UDP headers, or a lower path MTU the kernel learned), or
   * undefined when it cannot tell (not resolved yet, no route, no such notion).
   */
  pathLimit?(link: L): number | undefined;
  /**
   * The IP and UDP header octets in front of each datagram to `link`: 28 over IPv4, 48 over IPv6
   * (no extension headers). A path MTU is the largest datagram plus these, and the reverse.
   */
  headerOctets(link: L): number;
  /** `link` as an operator writes it: `HOST:PORT`, `[IPv6]:PORT` (logs, `msnl health`'s exits). */
  linkText(link: L): string;
  /** The link value for a route's `HOST:PORT` (wireguard-go's ParseEndpoint). */
  link(host: string, port: number): L;
  /** True when two links name the same peer. */
  same(a: L, b: L): boolean;
  /**
   * The underlay path a link's datagrams take, as far as their size goes: links with one key
   * share a path MTU search (msnl(7) Path MTU). Over UDP the peer's address: IP's path MTU does
   * not depend on the port. Absent: every link its own path.
   */
  pathKey?(link: L): string | number;
}

/** The counters of the one-datagram-at-a-time sockets (node:dgram, memory). */
export interface DatagramCounters {
  datagramsSent: number;
  datagramsReceived: number;
  sendErrors: number;
  /** Datagrams refused because they were larger than the largest datagram carried. */
  oversize: number;
}

export function newDatagramCounters(): DatagramCounters {
  return { datagramsSent: 0, datagramsReceived: 0, sendErrors: 0, oversize: 0 };
}

/** What an underlay logs: socket errors (rate-limited by the caller's level) and resolver failures. */
export type UnderlayLog = Pick<Logger, 'error' | 'verbose'>;
