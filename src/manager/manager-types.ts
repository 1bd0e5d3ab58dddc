// The manager's shapes: its options, the events it reports, the connections and calls it holds
// (manager.ts is the behaviour).
import type { Logger } from '../base/logger.js';
import type { ManagedEndpoint } from './endpoint-port.js';

/** Bucket bounds of the call set-up histogram, milliseconds. */
export const CALL_SETUP_BUCKETS_MS: readonly number[] = [1, 2, 5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000];

export interface ManagerOptions<L> {
  readonly endpoint: ManagedEndpoint<L>;
  /** Delivers an encoded MMDOWN message to the tunnel whose sock id is `sock`. */
  readonly down: (sock: number, message: Uint8Array) => void;
  /** IPv4 -> MSNL address (longest prefix), from the current mapping table. */
  readonly msnlAddressOf: (ip: number) => number | undefined;
  /** MSNL address -> underlay link, from the current MSNL route table. */
  readonly linkOf: (msnlAddress: number) => L | undefined;
  /** True when `link` is one of the exits of the route to `msnlAddress` (a route with several; msnl(7) Exits). */
  readonly isRouteExit?: (msnlAddress: number, link: L) => boolean;
  /** Whether two links are the same underlay endpoint (default: the same object). */
  readonly sameLink?: (a: L, b: L) => boolean;
  readonly log: Logger;
  /** Wall clock, Unix milliseconds (when calls started and failed). */
  readonly now?: () => number;
  /** Told of each state change the log reports (for `msnl monitor`); `sock` is the tunnel's. */
  readonly onEvent?: (event: ManagerEvent) => void;
  /** Whether onEvent has anyone to tell now (absent: always): the per-connection events of a
   *  storm are then not made at all. */
  readonly eventsWanted?: () => boolean;
  /**
   * Connection lines (up, down, failed and refused calls) logged one by one in a second; past
   * that they are counted and summarised once a second (src/base/line-summary.ts). 0 or absent:
   * every line.
   */
  readonly connectionLinesPerSecond?: number;
}

/** A change of a connection or call, as the manager sees it. Addresses are host-order numbers. */
export type ManagerEvent =
  | { readonly kind: 'up'; readonly sock: number; readonly conn: number; readonly peerIp: number; readonly remoteMsnl: number }
  | { readonly kind: 'down'; readonly sock: number; readonly conn: number; readonly peerIp: number; readonly remoteMsnl: number; readonly reason: string }
  | { readonly kind: 'call_failed'; readonly sock: number; readonly remoteMsnl: number; readonly reason: string }
  | { readonly kind: 'call_refused'; readonly sock?: number; readonly remoteMsnl: number; readonly reason: string }
  | { readonly kind: 'connect_refused'; readonly sock: number; readonly peerIp: number; readonly reason: string }
  | { readonly kind: 'bound' | 'unbound'; readonly sock: number };

export interface Binding {
  readonly sock: number;
  readonly port: number;
  readonly ipa: number;
}

/** A connection the manager set up or accepted. */
export interface ManagedConnection {
  readonly conn: number;
  readonly sock: number;
  readonly remoteMsnl: number;
  /** The IP peer that justified the connection (the callee's target, or the caller's ms_ipa). */
  readonly peerIp: number;
  readonly initiator: boolean;
}

/** A connection as the manager holds it: with the underlay endpoint it runs over, to judge a
 *  second call that claims the same peer (one record per connection, no second map). */
export interface HeldConnection<L> extends ManagedConnection {
  readonly link: L;
}

export interface OutgoingCall {
  readonly sock: number;
  readonly remoteMsnl: number;
  readonly port: number;
  readonly since: number;
  readonly refs: Array<{ ref: number; peerIp: number }>;
  handle: number | undefined;
}

/** A call in progress, or the last failed call to a host that has no connection since. */
export interface CallRecord {
  readonly sock: number;
  readonly remoteMsnl: number;
  /** The IP peer the call is for (the first that asked). */
  readonly peerIp: number;
  /** The tunnelling port called (the interface's). */
  readonly port: number;
  readonly state: 'calling' | 'failed';
  /** When the call started (calling) or failed (failed), Unix ms. */
  readonly since: number;
  /** msnl(7) reason code of a failed call; undefined while calling. */
  readonly reason: number | undefined;
}

/** Failed calls remembered at most (the oldest are forgotten first). */
export const MAX_FAILED_CALLS = 1024;
