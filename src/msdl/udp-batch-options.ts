// The options of BatchUdpSocket (udp-batch.ts) and the size limits they are checked against, apart
// so the socket file stays about its queue and its slabs.
import type { NativeUdpSocketConstructor } from './udp-addon.js';

/** Largest UDP payload over IPv4 (65535 - 20 - 8). */
export const MAX_UDP_PAYLOAD = 65507;
/** The kernel's per-call message cap for sendmmsg/recvmmsg (UIO_MAXIOV). */
export const MAX_BATCH = 1024;

export interface BatchUdpOptions {
  /** Address to bind: IPv4 as a host-order number (0 = any), or the 16 octets of an IPv6 one (:: = any, both families). */
  readonly address: number | Uint8Array;
  /** UDP port to bind; 0 picks a free one. */
  readonly port: number;
  /**
   * Gets every datagram as slab[offset, offset + length) of a reused receive slab, valid only during
   * the call, with its source: `address` is the IPv4 address (host order; on an IPv6 socket, that
   * of an IPv4-mapped source) or -1, when the source is the IPv6 address from6[from6Offset, +16).
   */
  readonly onReceive: (slab: Uint8Array, offset: number, length: number, address: number, port: number, from6: Uint8Array, from6Offset: number) => void;
  /** After each recvmmsg round's datagrams were handed to onReceive, before the slab is reused. */
  readonly onRoundEnd?: () => void;
  /** Socket errors and exceptions thrown by onReceive (the socket keeps running). */
  readonly onError?: (error: Error) => void;
  /** A datagram to address:port was refused as too big for the path (EMSGSIZE, DF); `address` is
   *  -1 for an IPv6 destination, then to6[to6Offset, +16) (valid only during the call). */
  readonly onTooBig?: (address: number, port: number, to6: Uint8Array, to6Offset: number) => void;
  /** SO_RCVBUF / SO_SNDBUF requests in octets (default 4 MiB each; SO_*BUFFORCE when privileged). */
  readonly receiveBufferSize?: number;
  readonly sendBufferSize?: number;
  /** Datagrams per recvmmsg (default 64) and the slot size (default 65536: any IPv4 datagram). */
  readonly receiveBatch?: number;
  readonly slotSize?: number;
  /** Send queue bounds: datagrams (default 4096) and octets (default 4 MiB). Beyond: dropped. */
  readonly queueLength?: number;
  readonly queueBytes?: number;
  /** UDP GSO for runs of same-size datagrams to one peer (default true; goes off when the route
   *  cannot segment, by the rule of gso.ts). */
  readonly segmentation?: boolean;
  /** UDP GRO on receive (default true when slotSize >= 65536, which it needs). */
  readonly coalescing?: boolean;
  /** The kernel's receive time of each datagram (SO_TIMESTAMPNS), for receivedAgo() (default true):
   *  on at open and from the first receivedAgo() until nobody asked for receiveTimesIdleMs (default
   *  1000; off after 1-2 idle periods). */
  readonly receiveTimes?: boolean;
  readonly receiveTimesIdleMs?: number;
  /** recvmmsg rounds per readable event before yielding to the loop (default 8). */
  readonly receiveRounds?: number;
  /** For tests: the native socket class (default: the addon's). */
  readonly native?: NativeUdpSocketConstructor;
}
