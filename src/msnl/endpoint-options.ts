// What an MsnlEndpoint (endpoint.ts) is built from: its clock, randomness, transmit function,
// events, configuration and keys.
import type { Clock } from '../base/clock.js';
import type { RandomSource } from '../base/random.js';
import type { KeyPair } from '../crypto/primitives.js';
import type { AeadBatch } from '../crypto/aead.js';
import type { EndpointConfig, EndpointEvents } from './types.js';
import type { ExitSpec } from './exits.js';

export interface EndpointOptions<L> {
  /** This host's MSNL address (the default address that 0.0.0.0 binds to). */
  readonly localAddress: number;
  readonly clock: Clock;
  readonly random?: RandomSource;
  /**
   * Sends one datagram, buf[offset, offset + length). It must consume (send or copy) the octets
   * before it returns: the endpoint writes segment headers in place and reuses them afterwards.
   */
  readonly transmit: (link: L, buf: Uint8Array, offset: number, length: number) => void;
  /**
   * Sends `count` datagrams to `link` laid out end to end (each `stride` octets, the last `last`)
   * that `fill(buf, at)` writes in place: true when queued, false when dropped, null when it cannot
   * (then they go one by one through transmit). msnld: UnderlaySocket.sendRun.
   */
  readonly transmitRun?: (link: L, count: number, stride: number, last: number, fill: (buf: Uint8Array, at: number) => boolean) => boolean | null;
  readonly events: EndpointEvents<L>;
  readonly config?: Partial<EndpointConfig>;
  /** Tells whether two links are the same peer (resets are only taken from the connection's peer). */
  readonly sameLink?: (a: L, b: L) => boolean;
  /** The underlay path of a link (Underlay.pathKey): the connections of one path share a path MTU search; absent: sameLink's links. */
  readonly pathKeyOf?: (link: L) => string | number;
  /** This host's X25519 key pair (secure MSNL); null or absent: keyed calls cannot be made or taken. */
  readonly identity?: KeyPair | null;
  /**
   * The key configured for an MSNL address (its route's): a key, 'none' for the historic plain
   * framing, undefined when there is no route (plain calls from it are refused). Absent: every
   * address is 'none' (the historic behaviour, for tests and embedders without keys).
   */
  readonly peerKeyOf?: (address: number) => Uint8Array | 'none' | undefined;
  /** Seals and opens sealed frames: the addon's batch AEAD in msnld; default node:crypto. */
  readonly aead?: AeadBatch;
  /**
   * Seal the sealed frames of a burst with one AEAD call: they then leave when `schedule` runs
   * the flush (msnld: queueMicrotask, after the current callback). Absent: each is sealed and
   * sent at once.
   */
  readonly scheduleSeals?: (flush: () => void) => void;
  /**
   * Runs work no call waits for after the current turn of the event loop (msnld: setImmediate):
   * the next handshake's ephemeral key pair is made there instead of on a call's path. Absent: by
   * tick(), or when a handshake needs one.
   */
  readonly scheduleIdle?: (work: () => void) => void;
  /** Wall-clock milliseconds since the Unix epoch, for handshake timestamps (default Date.now). */
  readonly wallClock?: () => number;
  /** The octets that name a link's source address, for cookies and per-source limits. */
  readonly linkBytes?: (link: L) => Uint8Array;
  /**
   * Called when the endpoint needs tick() by `at` (ms on the clock), earlier than it last said:
   * the shell arms one timer for the earliest such time instead of ticking at a fixed rate. After
   * each tick() it is called with the next deadline (not at all when nothing is pending).
   */
  readonly wake?: (at: number) => void;
  /**
   * Where a new path MTU search starts, for a link to an MSNL address: the largest datagram the
   * link's route allows and whether it is pinned (a route's `mtu`); undefined: config.maxDatagram, searched.
   */
  readonly pathLimitOf?: (link: L, address: number) => { readonly maxDatagram: number; readonly pinned: boolean } | undefined;
  /**
   * The exits of the route to an MSNL address (msnl(7) Exits), in the route's order; undefined or
   * fewer than two: a connection to it keeps the one link it was made on.
   */
  readonly exitsOf?: (address: number) => readonly ExitSpec<L>[] | undefined;
  /**
   * How many ms ago the datagram being handed to receive*() reached this host (the kernel's receive
   * time: it may have waited in the receive queue), NaN when unknown (msnld:
   * UnderlaySocket.receivedAgo). Asked only of connect requests: a storm's retransmissions that
   * crossed their confirm, and requests whose caller gave up, go unanswered. Absent: unknown.
   */
  readonly receivedAgo?: () => number;
}

/** Default source octets of a link: `address:port` of UDP links, the name of memory peers. */
export function defaultLinkBytes(link: unknown): Uint8Array {
  const l = link as { address?: unknown; port?: unknown; name?: unknown } | null;
  const text = l !== null && typeof l === 'object' ? (l.address !== undefined ? `${String(l.address)}:${String(l.port)}` : String(l.name)) : String(link);
  return new TextEncoder().encode(text);
}

