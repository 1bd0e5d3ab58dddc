// Protocol numbers of the msnl ABI (DESIGN.md section 3; documented byte by byte in ms(4)).
// Every multi-octet field of the ABI, the family fields included, is in network order (big-endian),
// so a message means the same on every architecture and the tunnel and manager halves could run in
// separate processes or on different builds.

/** Address family of `struct sockaddr_in` (the Linux value). */
export const AF_INET = 2;
/** Address family of `struct sockaddr_msnl`: "MS" in ASCII, a value Linux does not use (AF_MAX < 64). */
export const AF_MSNL = 0x4d53;

/** Both sockaddrs are 16 octets, like the BSD `struct sockaddr`. */
export const SOCKADDR_SIZE = 16;

/** Offsets inside `struct sockaddr_in` as the tunnel code uses it. */
export const SIN_FAMILY = 0;
export const SIN_PORT = 2;
export const SIN_ADDR = 4;
/** `sin_zero[0..3]` = `sa_data[6..9]`: the MSNL port of the interface's MTU service. */
export const SIN_MSNL_PORT = 8;
/** `sin_zero[4..7]`: must be zero. */
export const SIN_ZERO_TAIL = 12;

/** Offsets inside `struct sockaddr_msnl`. */
export const SMS_FAMILY = 0;
export const SMS_FLAGS = 2;
export const SMS_ADDR = 4;
export const SMS_PORT = 8;
export const SMS_IPA = 12;

/** Manager message header: type u16 at 0, total length u16 at 2; fields start at 4. */
export const MM_HEADER_SIZE = 4;
export const MM_TYPE_OFFSET = 0;
export const MM_LENGTH_OFFSET = 2;

/** Manager message types. Up (tunnel -> manager) are 0x01xx, down (manager -> tunnel) 0x02xx. */
export const MmType = Object.freeze({
  MMUP_BIND: 0x0101,
  MMUP_LISTEN: 0x0102,
  MMUP_CONNECT: 0x0103,
  MMUP_ACCEPT: 0x0104,
  MMUP_DISCONNECT: 0x0105,
  MMUP_DETACH: 0x0106,
  MMUP_ASSOCBAD: 0x0107,
  MMDOWN_NEWCONN: 0x0201,
  MMDOWN_DISCONNECT: 0x0202,
  MMDOWN_FINAL: 0x0203,
  MMDOWN_HOSTSET: 0x0204,
  MMDOWN_ASSOCIDLE: 0x0205,
  MMDOWN_CONNECTED: 0x0206,
  MMDOWN_REFUSED: 0x0207,
  MMDOWN_ERROR: 0x0208,
} as const);
export type MmTypeName = keyof typeof MmType;

/** Total length in octets of each manager message (header included); the codec checks it exactly. */
export const MM_LENGTH: Readonly<Record<MmTypeName, number>> = Object.freeze({
  MMUP_BIND: 24,
  MMUP_LISTEN: 12,
  MMUP_CONNECT: 28,
  MMUP_ACCEPT: 12,
  MMUP_DISCONNECT: 12,
  MMUP_DETACH: 8,
  MMUP_ASSOCBAD: 24,
  MMDOWN_NEWCONN: 28,
  MMDOWN_DISCONNECT: 12,
  MMDOWN_FINAL: 8,
  MMDOWN_HOSTSET: 8,
  MMDOWN_ASSOCIDLE: 8,
  MMDOWN_CONNECTED: 32,
  MMDOWN_REFUSED: 32,
  MMDOWN_ERROR: 20,
});

/** Why a call was refused or a connection ended (MMUP/MMDOWN_DISCONNECT, MMDOWN_REFUSED). */
export const MmReason = Object.freeze({
  /** Orderly close: interface address removed, interface down, or the peer closed. */
  NORMAL: 0,
  /** No mapping entry covers the IP address. */
  NO_MAPPING: 1,
  /** The MSNL address has no route to an underlay endpoint. */
  NO_ROUTE: 2,
  /** The peer host refused the call (nothing listening on that port, or its manager said no). */
  REFUSED_BY_PEER: 3,
  /** The caller's MSNL address does not map to the IP address it claims (`ms_ipa`). */
  IPA_MISMATCH: 4,
  /** The call or the connection timed out. */
  TIMEOUT: 5,
  /** The mapping entry that justified the connection was removed or changed. */
  MAPPING_REMOVED: 6,
  /** The connection carried no traffic for the idle period. */
  IDLE: 7,
  /** The manager or daemon is shutting down. */
  SHUTDOWN: 8,
  /** The port is not one of the four IP tunnelling ports, or the interface is not bound. */
  NO_SERVICE: 9,
  /** A simultaneous open: this connection lost to the other one between the same peers. */
  DUPLICATE: 10,
} as const);
export type MmReasonName = keyof typeof MmReason;
export type MmReasonCode = (typeof MmReason)[MmReasonName];

/** The largest reason code; codes above it are rejected by the decoder. */
export const MM_REASON_MAX = 10;

/** Names of reason codes, indexed by code. */
export const MM_REASON_NAMES: readonly MmReasonName[] = Object.freeze(
  (Object.keys(MmReason) as MmReasonName[]).sort((a, b) => MmReason[a] - MmReason[b]),
);

/** Errno-like codes carried by MMDOWN_ERROR (the positive Linux values; 0 is never sent). */
export const MmErrno = Object.freeze({
  /** The `sock` id names no bound socket. */
  EBADF: 9,
  /** A field is out of range (for example a port that is no tunnelling port). */
  EINVAL: 22,
  /** The manager could not decode the request. */
  EPROTO: 71,
  /** Another socket is bound to that (address, port, ms_ipa). */
  EADDRINUSE: 98,
  /** The MSNL address on bind is not one of this host's addresses. */
  EADDRNOTAVAIL: 99,
  /** The `conn` id names no connection. */
  ENOTCONN: 107,
} as const);
