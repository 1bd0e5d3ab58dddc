// A fake TUN device for unit tests of the layers above: a channel pair. `device` is the TunDevice
// the code under test uses; `peer` is the kernel's side: inject() queues an IP packet for the device
// to read (as if the host routed it into msN), and packets the device writes come out of peer.
// Configuration behaves like the kernel's (MTU, address, up/down, counters); address changes are
// also reported on `addrEvents`, like rtnetlink would. With `offload` the kernel's side speaks
// virtio_net_hdr frames (fake-offload.ts: TCP longer than the MTU is handed over as a super-packet,
// joined super-packets are taken whole) and the device hides them as KernelTun does
// (offload-framing.ts), so the offload path runs in unit tests.
import type { AddrEvent, AddrEventSource } from './addr-events.js';
import { decodeFlags, type TunAddress, type TunDevice, type TunFlags, type TunStats } from './device.js';
import { IFF } from './native.js';
import { TunError } from './errors.js';
import { acceptFrame, kernelFrame, segmentUdp } from './fake-offload.js';
import { VnetFraming } from './offload-framing.js';
import { MAX_IP_PACKET, readLe16, VnetGso } from './offload.js';

/** Address events a test emits by hand, or that fake devices emit on setAddress/removeAddress. */
export class FakeAddrEventSource implements AddrEventSource {
  private listener: ((ev: AddrEvent) => void) | null = null;
  onEvent(cb: ((ev: AddrEvent) => void) | null): void {
    this.listener = cb;
  }
  emit(ev: AddrEvent): void {
    this.listener?.(ev);
  }
  close(): void {
    this.listener = null;
  }
}

export interface FakeTunPeer {
  /** Queues a packet for the device to read; false when the queue is full (counted as txDropped). */
  inject(packet: Uint8Array): boolean;
  /** Called with each packet the device writes (a copy the listener may keep; with offload a
   *  joined super-packet arrives whole, longer than the MTU, as the stack would receive it). */
  onPacket(cb: ((packet: Buffer) => void) | null): void;
  /** Packets written while no onPacket listener was set, oldest first; taking them empties the list. */
  take(): Buffer[];
  /** Packets waiting to be read by the device. */
  readonly pending: number;
}

export interface FakeTunOptions {
  mtu?: number;
  ifindex?: number;
  /** Packets queued towards the device before inject() drops (the kernel's txqueuelen; default 500). */
  queueLength?: number;
  addrEvents?: FakeAddrEventSource;
  /** Behave as a device opened with offload (IFF_VNET_HDR, TUNSETOFFLOAD). Default false. */
  offload?: boolean;
}

/** Frames the offloading fake reads per call into the framing (each buffer holds 64 KiB). */
const FAKE_FRAME_BATCH = 4;

let nextIfindex = 100;

class FakeTun implements TunDevice {
  closed = false;
  readonly offload: boolean;
  mtu: number;
  readonly index: number;
  address: TunAddress | undefined;
  up = false;
  readonly queue: Buffer[] = [];
  readonly written: Buffer[] = [];
  listener: ((p: Buffer) => void) | null = null;
  private readable: (() => void) | null = null;
  private scheduled = false;
  private counters = { rxPackets: 0, txPackets: 0, rxBytes: 0, txBytes: 0, rxErrors: 0, txErrors: 0, rxDropped: 0, txDropped: 0, writeDrops: 0 };
  /** With offload: the queue holds frames, and this turns them into plain packets and back. */
  private readonly framing: VnetFraming | undefined;

  constructor(
    readonly name: string,
    private readonly opts: FakeTunOptions,
  ) {
    this.mtu = opts.mtu ?? 1500;
    this.index = opts.ifindex ?? nextIfindex++;
    this.offload = opts.offload === true;
    if (this.offload) {
      this.framing = new VnetFraming(
        { readFrames: (bufs, sizes) => this.readQueue(bufs, sizes, 0), writeFrame: (header, buf, off, len) => this.writeFrame(header, buf, off, len) },
        FAKE_FRAME_BATCH,
        true,
      );
    }
  }

  get readDrops(): number {
    return this.framing?.readDrops ?? 0;
  }

  get runsRefused(): number {
    return this.framing?.runsRefused ?? 0;
  }

  private live(action: string): void {
    if (this.closed) throw new TunError(`${this.name}: failed to ${action}: device closed`, this.name, 'EBADF');
  }

  /** Kernel side: a packet routed into the interface. */
  inject(packet: Uint8Array): boolean {
    if (this.closed || !this.up || this.queue.length >= (this.opts.queueLength ?? 500)) {
      this.counters.txDropped++;
      return false;
    }
    this.queue.push(this.offload ? kernelFrame(packet, this.mtu) : Buffer.from(packet));
    this.counters.txPackets++;
    this.counters.txBytes += packet.length;
    this.schedule();
    return true;
  }

  /** Whether packets wait: in the queue, or already read by the framing. */
  private get waiting(): boolean {
    return this.queue.length > 0 || this.framing?.pending === true;
  }

  private schedule(): void {
    if (this.scheduled || this.readable === null || !this.waiting) return;
    this.scheduled = true;
    setImmediate(() => {
      this.scheduled = false;
      if (this.closed || this.readable === null || !this.waiting) return;
      this.readable();
      this.schedule(); // level-triggered, like uv_poll: fires again while packets wait
    });
  }

  readBatch(bufs: readonly Uint8Array[], sizes: Int32Array, offset: number, segmentLimit: number = MAX_IP_PACKET): number {
    this.live('read');
    if (this.framing !== undefined) return this.framing.readBatch(bufs, sizes, offset, segmentLimit);
    return this.readQueue(bufs, sizes, offset);
  }

  /** Moves queued packets (or frames) into bufs at offset, like read(2): truncated when too long. */
  private readQueue(bufs: readonly Uint8Array[], sizes: Int32Array, offset: number): number {
    const n = Math.min(bufs.length, sizes.length);
    let i = 0;
    while (i < n) {
      const packet = this.queue.shift();
      if (packet === undefined) break;
      const buf = bufs[i];
      if (buf === undefined || buf.length <= offset) throw new TypeError('a buffer is not larger than the headroom offset');
      const len = packet.copy(buf, offset); // like read(2) into a short buffer: truncated
      sizes[i++] = len;
    }
    return i;
  }

  write(buf: Uint8Array, offset: number, length: number, valid = false): boolean {
    this.live('write');
    if (this.framing !== undefined) return this.framing.write(buf, offset, length, valid);
    const version = length > 0 ? (buf[offset] ?? 0) >> 4 : 0;
    if (length > this.mtu || (version !== 4 && version !== 6)) return this.refuse();
    return this.take(Buffer.from(buf.subarray(offset, offset + length)));
  }

  /** Kernel side of an offloading device: one frame written. */
  private writeFrame(header: Uint8Array, buf: Uint8Array, offset: number, length: number): boolean {
    this.live('write'); // as KernelTun: a closed fd throws
    const packet = acceptFrame(header, buf, offset, length, this.mtu);
    if (typeof packet === 'string') return this.refuse();
    if ((header[1]! & ~VnetGso.ECN) !== VnetGso.UDP_L4) return this.take(packet);
    let ok = true;
    for (const datagram of segmentUdp(packet, readLe16(header, 4))) ok = this.take(datagram) && ok;
    return ok;
  }

  /** The kernel takes the packet (a copy) into the stack, unless the interface is down. */
  private take(packet: Buffer): boolean {
    if (!this.up) return this.refuse();
    this.counters.rxPackets++;
    this.counters.rxBytes += packet.length;
    if (this.listener !== null) this.listener(packet);
    else this.written.push(packet);
    return true;
  }

  private refuse(): boolean {
    this.counters.writeDrops++;
    if (!this.up) this.counters.rxDropped++;
    return false;
  }

  writeBatch(bufs: readonly Uint8Array[], sizes: Int32Array, offset: number, count: number = bufs.length): number {
    this.live('write');
    if (this.framing !== undefined) return this.framing.writeBatch(bufs, sizes, offset, count);
    let n = 0;
    const end = Math.min(count, bufs.length, sizes.length);
    for (let i = 0; i < end; i++) {
      const buf = bufs[i];
      if (buf !== undefined && this.write(buf, offset, sizes[i] ?? 0)) n++;
    }
    return n;
  }

  onReadable(cb: (() => void) | null): void {
    this.live('watch');
    this.readable = cb;
    this.schedule();
  }

  setMtu(mtu: number): void {
    this.live('set MTU');
    if (!Number.isInteger(mtu) || mtu < 68 || mtu > 65535) {
      throw new TunError(`${this.name}: failed to set MTU ${mtu}: Invalid argument [EINVAL]`, this.name, 'EINVAL');
    }
    this.mtu = mtu;
  }

  getMtu(): number {
    this.live('get MTU');
    return this.mtu;
  }

  setAddress(address: number, prefixLength: number, peer?: number): void {
    this.live('set address');
    if (!Number.isInteger(prefixLength) || prefixLength < 0 || prefixLength > 32) {
      throw new TunError(`${this.name}: failed to set address: prefix length ${prefixLength} is not 0..32`, this.name, undefined);
    }
    if (address === 0) return this.removeAddress();
    if (this.address !== undefined) this.announce('removed', this.address);
    this.address = peer === undefined ? { address: address >>> 0, prefixLength } : { address: address >>> 0, prefixLength, peer: peer >>> 0 };
    this.announce('added', this.address);
  }

  getAddress(): TunAddress | undefined {
    this.live('get address');
    return this.address;
  }

  removeAddress(): void {
    this.live('remove address');
    if (this.address === undefined) return;
    const old = this.address;
    this.address = undefined;
    this.announce('removed', old);
  }

  private announce(kind: 'added' | 'removed', a: TunAddress): void {
    const base = { kind, ifname: this.name, ifindex: this.index, address: a.address, prefixLength: a.prefixLength };
    this.opts.addrEvents?.emit(a.peer === undefined ? base : { ...base, peer: a.peer });
  }

  setUp(up: boolean): void {
    this.live(up ? 'bring up' : 'bring down');
    this.up = up;
  }

  isUp(): boolean {
    return this.flags().up;
  }

  flags(): TunFlags {
    this.live('get flags');
    const base = IFF.POINTOPOINT | IFF.NOARP | IFF.MULTICAST;
    return decodeFlags(base | (this.up ? IFF.UP | IFF.RUNNING : 0));
  }

  ifindex(): number {
    this.live('get ifindex');
    return this.index;
  }

  stats(): TunStats {
    this.live('get counters');
    const offload = this.framing?.counters();
    return offload === undefined ? { ...this.counters } : { ...this.counters, offload };
  }

  close(): void {
    this.framing?.close();
    this.closed = true;
    this.readable = null;
    this.queue.length = 0;
  }
}

/** Creates a fake TUN device and the handle a test uses to play the kernel's side. */
export function createFakeTun(name: string, opts: FakeTunOptions = {}): { device: TunDevice; peer: FakeTunPeer } {
  const dev = new FakeTun(name, opts);
  const peer: FakeTunPeer = {
    inject: (packet) => dev.inject(packet),
    onPacket: (cb) => {
      dev.listener = cb;
    },
    take: () => dev.written.splice(0, dev.written.length),
    get pending() {
      return dev.queue.length;
    },
  };
  return { device: dev, peer };
}
