// A fake TUN device for unit tests of the layers above: a channel pair. `device` is the TunDevice
// the code under test uses; `peer` is the kernel's side: inject() queues an IP packet for the device
// to read (as if the host routed it into msN), and packets the device writes come out of peer.
// Configuration behaves like the kernel's (MTU, address, up/down, counters); address changes are
// also reported on `addrEvents`, like rtnetlink would.
import type { AddrEvent, AddrEventSource } from './addr-events.js';
import { decodeFlags, type TunAddress, type TunDevice, type TunFlags, type TunStats } from './device.js';
import { IFF } from './native.js';
import { TunError } from './errors.js';

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
  /** Called with each packet the device writes (a copy the listener may keep). */
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
}

let nextIfindex = 100;

class FakeTun implements TunDevice {
  closed = false;
  /** The fake speaks plain packets only: no virtio_net_hdr, no offload. */
  readonly vnetHeader = false;
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

  constructor(
    readonly name: string,
    private readonly opts: FakeTunOptions,
  ) {
    this.mtu = opts.mtu ?? 1500;
    this.index = opts.ifindex ?? nextIfindex++;
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
    this.queue.push(Buffer.from(packet));
    this.counters.txPackets++;
    this.counters.txBytes += packet.length;
    this.schedule();
    return true;
  }

  private schedule(): void {
    if (this.scheduled || this.readable === null || this.queue.length === 0) return;
    this.scheduled = true;
    setImmediate(() => {
      this.scheduled = false;
      if (this.closed || this.readable === null || this.queue.length === 0) return;
      this.readable();
      this.schedule(); // level-triggered, like uv_poll: fires again while packets wait
    });
  }

  readBatch(bufs: readonly Buffer[], sizes: Int32Array, offset: number): number {
    this.live('read');
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

  write(buf: Buffer, offset: number, length: number): boolean {
    this.live('write');
    const version = length > 0 ? (buf[offset] ?? 0) >> 4 : 0;
    if (length > this.mtu || (version !== 4 && version !== 6) || !this.up) {
      this.counters.writeDrops++;
      if (!this.up) this.counters.rxDropped++;
      return false;
    }
    const copy = Buffer.from(buf.subarray(offset, offset + length));
    this.counters.rxPackets++;
    this.counters.rxBytes += length;
    if (this.listener !== null) this.listener(copy);
    else this.written.push(copy);
    return true;
  }

  /** Takes only an all-zero header (a plain packet): the fake has no offload to apply. */
  writeWithHeader(header: Uint8Array, buf: Uint8Array, offset: number, length: number): boolean {
    if (header.some((octet) => octet !== 0)) {
      this.counters.writeDrops++;
      return false;
    }
    return this.write(Buffer.from(buf.buffer, buf.byteOffset, buf.byteLength), offset, length);
  }

  writeBatch(bufs: readonly Buffer[], sizes: Int32Array, offset: number, count: number = bufs.length): number {
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
    return { ...this.counters };
  }

  close(): void {
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
