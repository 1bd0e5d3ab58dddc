// The types call set-up and release (signalling.ts) works with: its host's contract (the endpoint),
// a connect request, and the records of the calls out and in that it holds.

import type { Sap } from './address.js';
import type { Connection } from './connection.js';
import type { Clock } from '../base/clock.js';
import type { RandomSource } from '../base/random.js';
import type { EndpointConfig, EndpointCounters, EndpointEvents } from './types.js';
import type { SignalMessage } from './wire.js';

export interface SignallingHost<L> {
  readonly localAddress: number;
  readonly clock: Clock;
  readonly random: RandomSource;
  readonly config: EndpointConfig;
  readonly counters: EndpointCounters;
  readonly events: EndpointEvents<L>;
  allocateId(): number;
  releaseId(id: number): void;
  openConnection(id: number, remoteId: number, role: 'originator' | 'responder', local: Sap, remote: Sap, localIpa: number, remoteIpa: number, link: L, transaction: number, secure: boolean): Connection<L>;
  closeConnection(conn: Connection<L>, reason: number, byPeer: boolean): void;
  findConnection(id: number): Connection<L> | undefined;
  isListening(port: number): boolean;
  /** Sends a signal that is on no open connection; `bytes` is this module's reused frame: the
   *  host copies what it keeps past the call (transmit copies; a keyed path copies first). */
  sendControl(link: L, bytes: Uint8Array): void;
  /** Sends a signal on an open connection (sealed when the connection is keyed); `bytes` as for sendControl. */
  sendOnConnection(conn: Connection<L>, bytes: Uint8Array): void;
  /** True when calls to or from `address` must be keyed (its route has a key). */
  isKeyed(address: number): boolean;
  sendReset(link: L, connId: number, reason: number): void;
  /** The links a call to `address` asked on `link` tries, in order (exits.ts callLinks). */
  callLinks?(address: number, link: L): readonly L[];
  /** A timer of this module is due at `at`: tick() must run by then. */
  scheduleAt(at: number): void;
  /** How many ms ago the signal being handled reached this host (it may have waited in the
   *  underlay's receive queue), NaN when unknown: taken as just now. */
  receivedAgo(): number;
}

/** A call we originated, until it is confirmed, refused or times out. */
export interface OutCall<L> {
  readonly handle: number;
  readonly txn: number;
  readonly localConnId: number;
  readonly local: Sap;
  readonly remote: Sap;
  readonly ipa: number;
  readonly link: L;
  /** Where the request and its retransmissions go, in turn (the route's exits; `link` first). */
  readonly links: readonly L[];
  readonly deadline: number;
  /** A keyed call: only authenticated answers count. */
  readonly secure: boolean;
  /** An answer (authenticated, for a keyed call) matched this call: a wait, say. */
  answered: boolean;
  nextRetryAt: number;
  retryDelay: number;
  sent: number;
}

/** A call to us, held while the manager decides. */
export interface InCall<L> {
  readonly callId: number;
  readonly msg: SignalMessage;
  readonly link: L;
  readonly local: Sap;
  readonly remote: Sap;
  readonly expiresAt: number;
  readonly secure: boolean;
}

export interface ConnectRequest<L> {
  readonly remoteAddress: number;
  readonly remotePort: number;
  readonly localPort: number;
  /** Our ms_ipa: the IP address of the interface that calls. */
  readonly ipa: number;
  readonly link: L;
}
