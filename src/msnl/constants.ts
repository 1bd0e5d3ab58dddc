// Protocol numbers of MSNL over UDP, documented byte by byte in man/msnl.7. Every datagram starts
// with the 4-octet common header: version u8, type u8, code u16 (network order).

import { UDP_PAYLOAD_1500 } from '../abi/inet.js';

/** The wire version this code speaks. Other versions are dropped (counted). */
export const WIRE_VERSION = 1;

/** Size of the common header: version, type, code. */
export const COMMON_HEADER_SIZE = 4;

/**
 * Message types. 0..4 are the historic MSNL signalling command codes and keep their numbers;
 * the rest are ours.
 */
export const MsgType = {
  CONNECT_REQUEST: 0,
  CONNECT_CONFIRM: 1,
  DISCONNECT: 2,
  WAIT: 3,
  REDIRECT: 4,
  RESET: 5,
  ECHO_REQUEST: 6,
  ECHO_REPLY: 7,
  PROBE: 8,
  PROBE_REPLY: 9,
  DATA: 10,
} as const;
export type MsgType = (typeof MsgType)[keyof typeof MsgType];

/** Highest signalling command code (0..4 share one layout). */
export const LAST_SIGNAL_TYPE = MsgType.REDIRECT;

/** Signalling message: common header + transaction, 4 x SAP half, ms_ipa, two connection ids. */
export const SIGNAL_SIZE = 36;
/** Short disconnect answering traffic on an unknown connection: common header + connection id. */
export const RESET_SIZE = 8;
/** Echo header: common header + destination address, source address, identifier. */
export const ECHO_HEADER_SIZE = 16;
/** Probe and probe reply: common header + connection id, sequence, timestamp. */
export const PROBE_SIZE = 16;
/** Data header: common header + connection id, packet sequence, total length u16, offset u16. */
export const DATA_HEADER_SIZE = 16;

/** msnl(7): each end probes every connection at least this often (msnld: every 2 s). */
export const MAX_PROBE_INTERVAL_MS = 5000;
/** The rx direction stays proven for this many of the peer's probe intervals (12.5 s at the slowest rate). */
export const PEER_INTERVAL_TOLERANCE = 2.5;

/** The largest IP packet a connection carries (ms3's MTU). */
export const MAX_PACKET_SIZE = 65535;
/** UDP payload of a 1500-byte underlay MTU (1500 - 20 IPv4 - 8 UDP). */
export const DEFAULT_MAX_DATAGRAM = UDP_PAYLOAD_1500;
/** Smallest max datagram size the SAR accepts (a header plus one payload octet, rounded up). */
export const MIN_MAX_DATAGRAM = 64;

/** Reason codes carried in the code field of disconnect, reset, wait and redirect messages. */
export const Reason = {
  NORMAL: 0,
  NO_LISTENER: 1,
  REFUSED: 2,
  WRONG_ADDRESS: 3,
  IDLE: 4,
  UNKNOWN_CONNECTION: 5,
  NO_RESOURCES: 6,
  TIMEOUT: 7,
  SHUTDOWN: 8,
  DEAD: 9,
  /** Local only, never sent: a keyed call got no authenticated answer at all (secure MSNL). */
  NO_HANDSHAKE: 10,
} as const;
export type Reason = (typeof Reason)[keyof typeof Reason];

const REASON_NAMES: ReadonlyMap<number, string> = new Map(Object.entries(Reason).map(([name, value]) => [value, name.toLowerCase().replace(/_/g, '-')]));

/** Names of reason codes for logs and the CLI; unknown codes print as numbers. One look-up: a
 *  hang-up storm names a reason per connection. */
export function reasonName(code: number): string {
  return REASON_NAMES.get(code) ?? String(code);
}
