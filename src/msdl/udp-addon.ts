// The typed surface of the addon's UdpSocket (src/tun/native/udp.cc; the one msnl_tun addon, loaded
// by src/tun/native.ts): a non-blocking UDP socket moved in batches with recvmmsg/sendmmsg,
// readiness by uv_poll. Its datagrams never fragment (DF, IP_PMTUDISC_DO): one too big for the
// path (the outgoing link, or a path MTU the kernel learned from ICMP) is refused with EMSGSIZE.
// udp-batch.ts wraps it. On an IPv4 socket an address is one unsigned 32-bit word in host order
// (src/abi/inet.ts); on an IPv6 socket it is four words holding its 16 octets as they are in
// memory (network order), so `addrs` arrays are four times as long.
import { loadNative } from '../tun/native.js';

/** uv_poll event bits the callback receives (uv.h). */
export const UV_READABLE = 1;
export const UV_WRITABLE = 2;
/** recvBatch's age of a datagram the kernel gave no receive time. */
export const NO_AGE = 0xffffffff;

export interface NativeUdpSocket {
  /**
   * Receives up to min(slab.length / slotSize, sizes.length, addrs.length, ports.length, 1024)
   * datagrams: datagram i lands at slab[i * slotSize ..], sizes[i] is its length (-1: it did not fit
   * a slot and was truncated), addrs[i]/ports[i] its source. Returns the count (0: nothing waiting),
   * or -errno when the first receive failed. With coalescing on, slot i may hold a run of datagrams
   * from one peer: segs[i] is then their size (the last may be shorter), 0 for a single datagram.
   * With receive times on, ages[i] is how many microseconds before the call the kernel received
   * datagram i (NO_AGE: it gave no time).
   */
  recvBatch(slab: Uint8Array, slotSize: number, sizes: Int32Array, addrs: Uint32Array, ports: Uint16Array, segs?: Uint16Array, ages?: Uint32Array): number;
  /**
   * Sends datagrams start..end-1, datagram k being slab[offsets[k], offsets[k] + lengths[k]) to
   * addrs[k]:ports[k]. Returns how many were sent (fewer than asked: the socket is full, wait for
   * UV_WRITABLE), or -errno when datagram `start` itself was refused (drop it and go on). With
   * segmentation on, runs to one peer of one size (the last may be shorter) go as one UDP GSO
   * message; when the kernel refuses one, the rest of the call goes plainly and gsoStatus[0] gets the
   * (positive) errno, 0 when none was refused. Segmentation stays on: turning it off is the caller's
   * decision (src/msdl/gso.ts).
   */
  sendBatch(slab: Uint8Array, offsets: Uint32Array, lengths: Uint32Array, addrs: Uint32Array, ports: Uint16Array, start: number, end: number, gsoStatus?: Int32Array): number;
  /** UDP GSO on send (on by default). */
  setSegmentation(on: boolean): void;
  segmentation(): boolean;
  /** UDP GRO on receive (off by default; needs 64 KiB slots). Returns whether it is on. */
  setCoalescing(on: boolean): boolean;
  /** The kernel's receive time of each datagram (SO_TIMESTAMPNS) for recvBatch's ages. Returns
   *  whether it is on. Optional: a stand-in without it gives no ages. */
  setReceiveTimes?(on: boolean): boolean;
  /** Adds (true) or removes UV_WRITABLE from the watched events; UV_READABLE is always watched. */
  watchWritable(on: boolean): void;
  /** The bound address (host-order IPv4; 0 for IPv6) and port, and `A.B.C.D:P` / `[V6]:P`. */
  local(): { address: number; port: number; name?: string };
  /** SO_RCVBUF / SO_SNDBUF as the kernel reports them. */
  bufferSizes(): { receive: number; send: number };
  /** Whether the poll handle keeps the event loop alive (it does by default). */
  ref(keepAlive: boolean): void;
  /** Stops watching and closes the fd; idempotent. Other methods then throw. */
  close(): void;
}

export type NativeUdpSocketConstructor = new (
  /** A host-order IPv4 address, or the 16 octets of an IPv6 one (the socket's family follows). */
  address: number | Uint8Array,
  port: number,
  receiveBuffer: number,
  sendBuffer: number,
  callback: (status: number, events: number) => void,
) => NativeUdpSocket;

/** The MTU of the kernel's route to an IPv4 address (host order) or to the IPv6 address
 *  octets[offset, +16), or -errno; loads the addon. */
export function routeMtu(address: number | Uint8Array, offset = 0): number {
  const native = loadNative() as unknown as { routeMtu: (address: number | Uint8Array, offset?: number) => number };
  return typeof address === 'number' ? native.routeMtu(address >>> 0) : native.routeMtu(address, offset);
}

/** The UdpSocket class of the addon (loads the addon once; throws when it is not built). */
export function loadUdpSocket(): NativeUdpSocketConstructor {
  return (loadNative() as unknown as { UdpSocket: NativeUdpSocketConstructor }).UdpSocket;
}
