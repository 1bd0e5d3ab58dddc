// The typed surface of the TUN half of the msnl_tun addon (src/tun/native, built by node-gyp) and
// its loader; src/tun/device.ts and addr-events.ts wrap it. The addon's UdpSocket class is typed
// beside its wrapper, in src/msdl/udp-addon.ts. Packet buffers are plain Uint8Arrays (Buffers
// included): the addon takes any ArrayBufferView. It throws Errors carrying `errno` and `syscall`;
// src/tun/errors.ts names the device.
import path from 'node:path';

/** IPv4 address as the addon reports it: unsigned 32-bit numbers in host order (src/abi/inet.ts). */
export interface NativeAddress {
  address: number;
  prefixLength: number;
  peer?: number;
}

/** Kernel interface counters (rtnl_link_stats64). rx = written into the TUN fd, tx = read from it. */
export interface NativeLinkStats {
  rxPackets: number;
  txPackets: number;
  rxBytes: number;
  txBytes: number;
  rxErrors: number;
  txErrors: number;
  rxDropped: number;
  txDropped: number;
}

export type NativeAddrEvent =
  | { kind: 'added' | 'removed'; ifindex: number; ifname: string; address: number; prefixLength: number; peer?: number }
  | { kind: 'overrun' };

/** uv_poll on a file descriptor: callback(status, events) once per readable event until close(). */
export interface NativeFdPoll {
  close(): void;
  /** Whether this handle keeps the event loop alive (it does by default). */
  ref(keepAlive: boolean): void;
}

export interface NativeTun {
  /** Opens /dev/net/tun and binds it to `name` (IFF_TUN | IFF_NO_PI), creating the device if needed.
   *  With offload: IFF_VNET_HDR (vnetHeader: reads and writes are virtio_net_hdr frames) and
   *  TUNSETOFFLOAD TUN_F_CSUM | TUN_F_TSO4 (offload, false when the kernel refused it);
   *  udpSegmentation: the kernel takes UDP_L4 super-packets on write (it knows TUN_F_USO4, 6.2+). */
  openTun(name: string, nonBlocking: boolean, offload?: boolean): { fd: number; name: string; vnetHeader: boolean; offload: boolean; udpSegmentation?: boolean };
  closeFd(fd: number): void;
  /** Reads up to min(bufs.length, sizes.length) packets, one read each, into bufs[i] at offset;
   *  sizes[i] = length. Returns the count (stops at EAGAIN), or -errno when the first read failed. */
  readBatch(fd: number, bufs: readonly Uint8Array[], sizes: Int32Array, offset: number): number;
  /** As readBatch, into one slab: packet i at slab[i * stride] (at most `stride` octets), for up
   *  to min(sizes.length, slab.length / stride) packets. Throws TypeError on wrong arguments.
   *  `ring`: the reads go through io_uring, many for one syscall, where the kernel allows it
   *  (else, and from then on, one read() each as without it). */
  readSlab(fd: number, slab: Uint8Array, stride: number, sizes: Int32Array, ring?: boolean): number;
  /** Whether readSlab's io_uring reads work in this thread (sets the ring up when not yet tried). */
  readRingUsable(): boolean;
  /** Writes one packet; returns bytes written or -errno. */
  write(fd: number, buf: Uint8Array, offset: number, length: number): number;
  /** One writev of `header` (a virtio_net_hdr) then the packet; bytes written or -errno. */
  writeWithHeader(fd: number, header: Uint8Array, buf: Uint8Array, offset: number, length: number): number;
  /** Writes packets start..end-1 (bufs[i] at offset, sizes[i] bytes); returns how many were written
   *  (stops at EAGAIN), or -errno when packet `start` failed. */
  writeBatch(fd: number, bufs: readonly Uint8Array[], sizes: Int32Array, offset: number, start: number, end: number): number;
  FdPoll: new (fd: number, callback: (status: number) => void) => NativeFdPoll;
  setMtu(name: string, mtu: number): void;
  getMtu(name: string): number;
  /** ifconfig semantics: replaces the primary address; address 0 removes it; peer -1 = none. */
  setAddress(name: string, address: number, prefixLength: number, peer: number): void;
  getAddress(name: string): NativeAddress | null;
  getFlags(name: string): number;
  setUp(name: string, up: boolean): void;
  /** Interface index, 0 when the interface does not exist. */
  ifindex(name: string): number;
  linkStats(name: string): NativeLinkStats;
  /** One datagram to a unix socket path ('@name': abstract); bytes sent, throws with errno. */
  sendUnixDatagram(path: string, message: string): number;
  /**
   * ChaCha20-Poly1305 in place over a batch of datagrams (aead.cc; the descriptor layout is
   * src/crypto/aead.ts's). Return how many items were looked at; results go into desc. `evp`
   * true: through OpenSSL's EVP even where its ChaCha20 and Poly1305 are exported (tests).
   */
  aeadSeal(keys: Uint8Array, buf: Uint8Array, desc: Uint32Array, count: number, evp?: boolean): number;
  aeadOpen(keys: Uint8Array, buf: Uint8Array, desc: Uint32Array, count: number, evp?: boolean): number;
  /** One packet cut into sealed segments (aead-segments.cc; AeadBatch.sealSegments in src/crypto/aead.ts). */
  aeadSealSegments?(key: Uint8Array, heads: Uint8Array, src: Uint8Array, srcOffset: number, length: number, chunk: number, counter: number, out: Uint8Array, at: number): number;
  /** Copies run i, src[runs[3i], + runs[3i + 2]) to dst[runs[3i + 1]..), for i < count (copy-runs.cc): count, or -1 (nothing copied) when a run is out of range. */
  copyRuns?(src: Uint8Array, dst: Uint8Array, runs: Int32Array, count: number): number;
  /** 'openssl-primitives' (ChaCha20_ctr32 and Poly1305 called directly) or 'evp'. */
  aeadImplementation(): string;
  /**
   * X25519 on raw 32-octet keys (x25519.cc): X25519(privateKey, publicKey) into out[0, 32), or with
   * publicKey null the public key; false, out zeroed, on a wrong length or an all-zero result.
   * `evp` true: through EVP even where ossl_x25519 is exported (tests).
   */
  x25519?(out: Uint8Array, privateKey: Uint8Array, publicKey: Uint8Array | null, evp?: boolean): boolean;
  /** 'openssl-primitives' (ossl_x25519 called directly) or 'evp'. */
  x25519Implementation?(): string;
  /** The Noise HKDF over HMAC-BLAKE2s (hkdf.cc): `outputs` (2 or 3) outputs of 32 octets into out; false when it cannot. */
  noiseHkdf?(out: Uint8Array, chainingKey: Uint8Array, input: Uint8Array, outputs: number): boolean;
  /** BLAKE2s-256(a | b) into out[0, 32) (hkdf.cc); false on a bad argument. */
  blake2s?(out: Uint8Array, a: Uint8Array, b?: Uint8Array | null): boolean;
  /** HMAC-BLAKE2s-256(key, a | b) into out[0, 32) (hkdf.cc); false on a bad argument. */
  hmacBlake2s?(out: Uint8Array, key: Uint8Array, a: Uint8Array, b?: Uint8Array | null): boolean;
  /** Non-blocking rtnetlink socket subscribed to RTMGRP_IPV4_IFADDR. */
  addrMonitorOpen(): number;
  addrMonitorRead(fd: number): NativeAddrEvent[];
}

/** Interface flag bits (linux/if.h) that getFlags reports. */
export const IFF = Object.freeze({ UP: 0x1, BROADCAST: 0x2, POINTOPOINT: 0x10, RUNNING: 0x40, NOARP: 0x80, MULTICAST: 0x1000 });

/** Where the addon may be, relative to this file once compiled (dist/src/tun -> package root). */
export function addonCandidates(dir: string = __dirname): string[] {
  const root = path.resolve(dir, '..', '..', '..');
  return [path.join(root, 'build', 'Release', 'msnl_tun.node'), path.join(root, 'build', 'Debug', 'msnl_tun.node')];
}

let cached: NativeTun | undefined;

/** Loads the addon once; the error lists every path tried and why each failed. */
export function loadNative(): NativeTun {
  if (cached !== undefined) return cached;
  const tried: string[] = [];
  for (const file of addonCandidates()) {
    try {
      cached = require(file) as NativeTun;
      return cached;
    } catch (err) {
      tried.push(`${file}: ${(err as Error).message.split('\n')[0] ?? ''}`);
    }
  }
  throw new Error(`failed to load the msnl_tun addon (run \`npm install\` or \`npx node-gyp rebuild\`); tried:\n  ${tried.join('\n  ')}`);
}
