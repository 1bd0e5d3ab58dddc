// The swarm's UDP sockets (bench/swarm.ts): caller i's own socket, bound to its own port and
// connected to the target, as a separate host's would be, but all of them behind one epoll watch
// of the addon (src/tun/native/udp-set.cc): a batch of ready sockets is one N-API call, each
// datagram one recv into a reused slab (no Buffer, no callback per datagram), and what the callers
// transmit in one turn of the event loop is copied into one slab and sent in one call at its end.
// node:dgram cost a caller 20-30 us a datagram here (a libuv handle per socket, a Buffer per
// datagram received, a copy and a callback per datagram sent). Load-generator code, not msnld's.
import { loadNative } from '../src/tun/native.js';

interface NativeUdpSocketSet {
  recvBatch(slab: Uint8Array, slotSize: number, sizes: Int32Array, sockets: Uint32Array): number;
  sendBatch(slab: Uint8Array, offsets: Uint32Array, lengths: Uint32Array, sockets: Uint32Array, start: number, end: number, dropped?: Int32Array): number;
  size(): number;
  close(): void;
}

type NativeUdpSocketSetConstructor = new (
  localAddress: number, basePort: number, count: number, remoteAddress: number, remotePort: number, receiveBuffer: number,
  callback: (status: number, events: number) => void,
) => NativeUdpSocketSet;

/** Largest datagram the callers receive (msnld's signals and probes are far smaller). */
const SLOT = 2048;
const RECV_SLOTS = 256;
const SEND_MAX = 4096;
const SEND_SLAB = SEND_MAX * 256;
/** Each socket's receive buffer: a caller gets a handful of datagrams a second. */
const RECEIVE_BUFFER = 64 * 1024;

export class SwarmSockets {
  private readonly set: NativeUdpSocketSet;
  private readonly recvSlab = new Uint8Array(RECV_SLOTS * SLOT);
  private readonly recvSizes = new Int32Array(RECV_SLOTS);
  private readonly recvSockets = new Uint32Array(RECV_SLOTS);
  private readonly sendSlab = new Uint8Array(SEND_SLAB);
  private readonly sendOffsets = new Uint32Array(SEND_MAX);
  private readonly sendLengths = new Uint32Array(SEND_MAX);
  private readonly sendSockets = new Uint32Array(SEND_MAX);
  private pending = 0;
  private used = 0;
  private flushQueued = false;
  /** [0]: datagrams the kernel refused on send (dropped; the protocol retransmits). */
  readonly dropped = new Int32Array(1);
  private readonly flushNow = (): void => this.flush();

  /**
   * Sockets 0..count-1 bound to local:basePort+index, connected to remote:remotePort (host-order
   * IPv4 numbers); `deliver` gets each datagram received with the index of its socket (the bytes
   * are valid only during the call). Throws when a socket cannot be made or bound.
   */
  constructor(local: number, basePort: number, count: number, remote: number, remotePort: number,
    private readonly deliver: (index: number, buf: Uint8Array, offset: number, length: number) => void) {
    const Set = (loadNative() as unknown as { UdpSocketSet: NativeUdpSocketSetConstructor }).UdpSocketSet;
    this.set = new Set(local, basePort, count, remote, remotePort, RECEIVE_BUFFER, () => this.receive());
  }

  /** Queues one datagram on socket `index` (copied: the caller may reuse its buffer at once); sent
   *  at the end of this turn of the event loop with the rest. */
  send(index: number, buf: Uint8Array, offset: number, length: number): void {
    if (this.pending === SEND_MAX || this.used + length > SEND_SLAB) this.flush();
    if (length > SEND_SLAB) return;
    this.sendSlab.set(buf.subarray(offset, offset + length), this.used);
    this.sendOffsets[this.pending] = this.used;
    this.sendLengths[this.pending] = length;
    this.sendSockets[this.pending] = index;
    this.pending++;
    this.used += length;
    if (!this.flushQueued) {
      this.flushQueued = true;
      queueMicrotask(this.flushNow);
    }
  }

  /** Sends everything queued. */
  flush(): void {
    this.flushQueued = false;
    const n = this.pending;
    if (n === 0) return;
    this.pending = 0;
    this.used = 0;
    this.set.sendBatch(this.sendSlab, this.sendOffsets, this.sendLengths, this.sendSockets, 0, n, this.dropped);
  }

  private receive(): void {
    for (;;) {
      const n = this.set.recvBatch(this.recvSlab, SLOT, this.recvSizes, this.recvSockets);
      for (let k = 0; k < n; k++) {
        const size = this.recvSizes[k]!;
        if (size >= 0) this.deliver(this.recvSockets[k]!, this.recvSlab, k * SLOT, size);
      }
      if (n < RECV_SLOTS) break;
    }
    this.flush();
  }

  close(): void {
    this.flush();
    this.set.close();
  }
}
