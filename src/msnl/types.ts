// Public shapes of the MSNL endpoint: configuration, events, rows and counters. `L` is the opaque
// underlay link (for UDP: { address, port }); the endpoint only stores and returns it.

import type { Sap } from './address.js';
import { DEFAULT_MAX_DATAGRAM } from './constants.js';
import { DEFAULT_EXIT_TIMERS, type ExitTimers } from './exits.js';
import { DEFAULT_REASSEMBLY, type ReassemblyConfig } from './sar.js';

export interface EndpointConfig {
  /** Delay before the first retransmission of a connect request (ms); doubles each time. */
  readonly connectFirstRetryMs: number;
  /** Largest delay between retransmissions (ms). */
  readonly connectMaxRetryMs: number;
  /** A call not confirmed or refused within this time fails with 'timeout' (ms). */
  readonly connectTimeoutMs: number;
  /** An incoming call the manager has not decided within this time is forgotten (ms). */
  readonly decideTimeoutMs: number;
  /** In-band health probes are sent on every connection at this interval (ms). */
  readonly probeIntervalMs: number;
  /** The probes of all connections together, per second: with more connections than that many
   *  probe intervals hold, each interval stretches, never beyond MAX_PROBE_INTERVAL_MS (msnl(7)). */
  readonly probesPerSecond: number;
  /** Send acknowledging probes (code 3) to peers that speak them, so a responder may rest (msnl(7) Probes); false: plain probes only. */
  readonly probeAcks: boolean;
  /** A caller's acknowledging probes ask a peer that answers them (code 4) for the interval it wants, and it probes no more often (up to MAX_PROBE_INTERVAL_MS; msnl(7) Probes); false: code 3 only. */
  readonly probeAsks: boolean;
  /** A direction counts as proven when it was shown working within this time (ms). */
  readonly healthWindowMs: number;
  /** The idle event fires after this long without data in either direction (ms). */
  readonly idleMs: number;
  /** A connection that heard nothing at all for this long is released with reason dead (ms); 0 = never. */
  readonly deadMs: number;
  /** Unanswered echo requests are forgotten after this long (ms). */
  readonly echoTimeoutMs: number;
  /** Largest datagram the underlay carries (UDP payload octets); a path's own limit may be lower. */
  readonly maxDatagram: number;
  /** Search each connection's path MTU with padded size probes (msnl(7) Path MTU). */
  readonly pathProbing: boolean;
  /** Delay of a new connection's first size probe (ms). */
  readonly firstSizeProbeMs: number;
  /** Size probes of all connections together: sustained per second, and burst; a probe beyond
   *  them waits its turn, so a call storm's path searches never flood the underlay. */
  readonly sizeProbeRatePerSecond: number;
  readonly sizeProbeBurst: number;
  /** Resets answering unknown-connection traffic: sustained rate per second and burst. */
  readonly resetRatePerSecond: number;
  readonly resetBurst: number;
  /** New incoming calls one underlay source may start: sustained per second, and burst. */
  readonly callRatePerSource: number;
  readonly callBurstPerSource: number;
  /** New incoming calls all sources together may start: sustained per second, and burst. */
  readonly callRateTotal: number;
  readonly callBurstTotal: number;
  /** How many underlay sources the per-source limit remembers at once. */
  readonly callSources: number;
  readonly reassembly: ReassemblyConfig;
  /** The originator of a keyed connection starts a new handshake when its keys are this old (ms)... */
  readonly rekeyAfterMs: number;
  /** ...or have sealed this many frames. */
  readonly rekeyAfterMessages: number;
  /** Keys older than this (ms) or used this many times are never used again. */
  readonly rejectAfterMs: number;
  readonly rejectAfterMessages: number;
  /** An unanswered rekey is sent again after this long (ms). */
  readonly rekeyRetryMs: number;
  /** Above this many initiations a second, an initiation must carry a valid cookie (mac2). */
  readonly handshakeLoadPerSecond: number;
  /** Initiations processed per underlay source: sustained rate per second and burst. */
  readonly handshakeRatePerSecond: number;
  readonly handshakeBurst: number;
  /** Probe rates, down times and hold-down of a connection's exits when its route has several (exits.ts). */
  readonly exitTimers: ExitTimers;
}

export const DEFAULT_ENDPOINT_CONFIG: EndpointConfig = Object.freeze({
  connectFirstRetryMs: 200,
  connectMaxRetryMs: 1600,
  connectTimeoutMs: 5000,
  decideTimeoutMs: 5000,
  probeIntervalMs: 2000,
  probesPerSecond: 1000,
  probeAcks: true,
  probeAsks: true,
  healthWindowMs: 5000,
  idleMs: 20 * 60 * 1000,
  deadMs: 30000,
  echoTimeoutMs: 3000,
  maxDatagram: DEFAULT_MAX_DATAGRAM,
  pathProbing: true,
  firstSizeProbeMs: 1000,
  sizeProbeRatePerSecond: 500,
  sizeProbeBurst: 500,
  resetRatePerSecond: 20,
  resetBurst: 10,
  callRatePerSource: 100,
  callBurstPerSource: 400,
  callRateTotal: 10_000,
  callBurstTotal: 20_000,
  callSources: 4096,
  reassembly: DEFAULT_REASSEMBLY,
  rekeyAfterMs: 120_000,
  rekeyAfterMessages: 2 ** 40,
  rejectAfterMs: 180_000,
  rejectAfterMessages: 2 ** 48,
  rekeyRetryMs: 5000,
  handshakeLoadPerSecond: 200,
  handshakeRatePerSecond: 20,
  handshakeBurst: 20,
  exitTimers: DEFAULT_EXIT_TIMERS,
});

/** An incoming call waiting for the manager's accept() or refuse(). */
export interface IncomingCall<L> {
  readonly callId: number;
  readonly caller: Sap;
  readonly called: Sap;
  /** The caller's ms_ipa: the IP address it claims. */
  readonly ipa: number;
  readonly link: L;
}

export type ConnectionRole = 'originator' | 'responder';

/** A snapshot of one open connection. */
export interface ConnectionInfo<L> {
  /** The id this end receives on (allocated here). */
  readonly connId: number;
  /** The id the peer receives on. */
  readonly remoteConnId: number;
  readonly role: ConnectionRole;
  readonly local: Sap;
  readonly remote: Sap;
  readonly localIpa: number;
  readonly remoteIpa: number;
  readonly link: L;
  readonly state: 'open';
  readonly createdAt: number;
  readonly rxPackets: number;
  readonly txPackets: number;
  readonly rxBytes: number;
  readonly txBytes: number;
  /** Keyed: every frame after the handshake is sealed (man/msnl.7 SECURE MSNL); false for auth none. */
  readonly authenticated: boolean;
}

/** A call still being set up, outgoing or incoming. */
export interface CallRow {
  readonly id: number;
  readonly state: 'connecting' | 'deciding';
  readonly local: Sap;
  readonly remote: Sap;
  readonly sentRequests: number;
}

export interface Health {
  /** Up only when both directions are proven. */
  readonly up: boolean;
  /** Our probes were answered within the health window. */
  readonly txProven: boolean;
  /** We received the peer's probes or data within the health window. */
  readonly rxProven: boolean;
  /** Round-trip time of the last answered probe (ms), or -1 before any answer. */
  readonly rttMs: number;
  /** Share of the recent probes left unanswered, 0..1. */
  readonly lossRatio: number;
  /** Milliseconds since anything arrived on the connection. */
  readonly lastHeardMs: number;
  /** The largest datagram (UDP payload) its path carries as far as is known, and the search's phase. */
  readonly maxDatagram: number;
  readonly pathPhase: 'base' | 'search' | 'done' | 'error' | 'pinned';
}

/** 'no-handshake': a keyed call timed out without one authenticated answer (a key mismatch, or no peer). */
export type CallFailure = 'timeout' | 'no-handshake' | 'refused' | 'redirected';

/**
 * Why a call was refused for its keys: 'wrong-key' (the caller proved a key other than its
 * route's), 'no-key' (a keyed call from an address whose route is auth none or missing),
 * 'plain-refused' (a plain call from an address whose route has a key, or has no route),
 * 'no-host-key' (a keyed call to or from this host, which has no private key).
 */
export type AuthFailure = 'wrong-key' | 'no-key' | 'plain-refused' | 'no-host-key' | 'no-answer';

export interface EndpointEvents<L> {
  incomingCall(call: IncomingCall<L>): void;
  /** A connection opened: `handle` is the connect() handle, undefined for an accepted call. */
  connected(handle: number | undefined, conn: ConnectionInfo<L>): void;
  /** A connect() failed; `code` is the peer's reason code (Reason), `redirect` the SAP to call instead. */
  callFailed(handle: number, reason: CallFailure, code: number, redirect?: Sap): void;
  /**
   * A whole packet arrived: buf[offset, offset + length), valid during the call only (copy what you
   * keep). `authenticated`: it came in sealed frames of a keyed connection, so its octets are
   * exactly those the peer's msnld read from its TUN (the AEAD tag vouches for them).
   */
  data(connId: number, buf: Uint8Array, offset: number, length: number, authenticated: boolean): void;
  /** The connection is gone; `byPeer` when the peer released or reset it. */
  disconnected(connId: number, reason: number, byPeer: boolean): void;
  idle(connId: number): void;
  echoReply(ident: number, from: number, payload: Uint8Array, rttMs: number): void;
  /** The caller gave up on an incoming call before the manager decided. Optional. */
  callCancelled?(callId: number): void;
  /** A call was refused for its keys (see AuthFailure). Optional; the daemon logs it, rate-limited. */
  authFailed?(address: number, reason: AuthFailure): void;
  /** A connection moved to another of its exits: its active one went silent, or a preferred one came back. Optional. */
  exitMoved?(connId: number, link: L, reason: 'down' | 'preferred'): void;
}

export interface EndpointCounters {
  datagramsIn: number;
  datagramsOut: number;
  bytesIn: number;
  bytesOut: number;
  packetsIn: number;
  packetsOut: number;
  dropMalformed: number;
  dropUnknownConnection: number;
  dropWrongAddress: number;
  dropUnexpectedSignal: number;
  dropSendNoConnection: number;
  dropSendBadLength: number;
  requestsSent: number;
  retransmits: number;
  requestsAbsorbed: number;
  waitsSent: number;
  confirmsResent: number;
  /** Retransmitted plain requests of a confirmed call left unanswered: they reached this host
   *  before the confirm they repeat was sent (they crossed it). */
  confirmsCrossed: number;
  /** New call requests dropped unanswered: they waited in the receive queue longer than a
   *  caller's call limit (connectTimeoutMs), so their caller had given up. */
  requestsStale: number;
  /** New incoming calls dropped by the per-source or overall limit, before any state was made. */
  requestsRateLimited: number;
  resetsSent: number;
  resetsRateLimited: number;
  resetsReceived: number;
  echoesAnswered: number;
  probesSent: number;
  probesAnswered: number;
  /** Probes a responder did not send because the peer's acknowledging probes proved both directions. */
  probesRested: number;
  /** Padded size probes sent and answered, and too-big reports taken (msnl(7) Path MTU). */
  sizeProbesSent: number;
  sizeProbesAnswered: number;
  pathTooBig: number;
  /** Exit probes sent and answered, and moves of a connection between its exits (msnl(7) Exits). */
  exitProbesSent: number;
  exitProbesAnswered: number;
  exitMoves: number;
  /** Handshake or sealed frame that failed authentication (mac1, Noise, AEAD). */
  dropAuth: number;
  /** A sealed frame or an initiation seen before (replay window, handshake timestamp). */
  dropReplay: number;
  /** An initiation proving a key other than the one configured for the address it claims. */
  dropWrongKey: number;
  /** A plain frame where a keyed one is required (keyed route, keyed connection, or no route). */
  dropPlainRefused: number;
  dropUnknownSession: number;
  dropNoHostKey: number;
  dropHandshakeRateLimited: number;
  dropSendNoSession: number;
  handshakesSent: number;
  handshakesAnswered: number;
  cookieRepliesSent: number;
  cookiesReceived: number;
  rekeys: number;
  /** Ephemeral key pairs made ahead and dropped unused for their age (secure-keys.ts EPHEMERAL_RENEW_MS). */
  ephemeralsDropped: number;
  sealedIn: number;
  sealedOut: number;
  /** The peer's underlay address moved to the source of an authenticated frame. */
  roams: number;
}

export function newCounters(): EndpointCounters {
  return {
    datagramsIn: 0, datagramsOut: 0, bytesIn: 0, bytesOut: 0, packetsIn: 0, packetsOut: 0,
    dropMalformed: 0, dropUnknownConnection: 0, dropWrongAddress: 0, dropUnexpectedSignal: 0,
    dropSendNoConnection: 0, dropSendBadLength: 0,
    requestsSent: 0, retransmits: 0, requestsAbsorbed: 0, waitsSent: 0, confirmsResent: 0, confirmsCrossed: 0, requestsStale: 0, requestsRateLimited: 0,
    resetsSent: 0, resetsRateLimited: 0, resetsReceived: 0, echoesAnswered: 0, probesSent: 0, probesAnswered: 0, probesRested: 0,
    sizeProbesSent: 0, sizeProbesAnswered: 0, pathTooBig: 0, exitProbesSent: 0, exitProbesAnswered: 0, exitMoves: 0,
    dropAuth: 0, dropReplay: 0, dropWrongKey: 0, dropPlainRefused: 0, dropUnknownSession: 0, dropNoHostKey: 0,
    dropHandshakeRateLimited: 0, dropSendNoSession: 0, handshakesSent: 0, handshakesAnswered: 0,
    cookieRepliesSent: 0, cookiesReceived: 0, rekeys: 0, ephemeralsDropped: 0, sealedIn: 0, sealedOut: 0, roams: 0,
  };
}
