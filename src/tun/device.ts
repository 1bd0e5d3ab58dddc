// TunDevice: the TUN interface the layers above use (the daemon, src/tunnel), and its real
// implementation over the msnl_tun addon. Reads never touch the libuv threadpool: the fd is
// non-blocking, uv_poll reports readiness once per event, and the reader drains it in batches into
// caller-owned buffers. Opened with offload, the device speaks virtio_net_hdr frames to the kernel
// and hides them (offload-framing.ts): reads still yield plain IP packets, and writes join runs of
// one TCP flow. Nothing here allocates per packet.
import { IFF, loadNative, type NativeFdPoll, type NativeTun } from './native.js';
import { tunError, TunError } from './errors.js';
import { VnetFraming, type OffloadCounters } from './offload-framing.js';
import { MAX_IP_PACKET } from './offload.js';

export interface TunAddress {
  /** Unsigned 32-bit IPv4 address, host order (src/abi/inet.ts formats it). */
  readonly address: number;
  readonly prefixLength: number;
  /** Point-to-point peer, when one is set. */
  readonly peer?: number;
}

export interface TunFlags {
  readonly up: boolean;
  readonly running: boolean;
  readonly pointToPoint: boolean;
  readonly noArp: boolean;
  readonly multicast: boolean;
  /** The raw IFF_* bits. */
  readonly raw: number;
}

/** Kernel counters of the interface (rx = packets written into the device by us) plus our own. */
export interface TunStats {
  readonly rxPackets: number;
  readonly txPackets: number;
  readonly rxBytes: number;
  readonly txBytes: number;
  readonly rxErrors: number;
  readonly txErrors: number;
  readonly rxDropped: number;
  readonly txDropped: number;
  /** Packets write()/writeBatch() dropped because the kernel refused them. */
  readonly writeDrops: number;
  /** What the offload did (a device opened with offload only). */
  readonly offload?: OffloadCounters;
}

export interface TunDevice {
  readonly name: string;
  readonly closed: boolean;
  /**
   * Whether the device was opened with offload (and the kernel agreed): it then reads TCP
   * super-packets from the kernel and cuts them (readBatch's segmentLimit), and joins runs of one
   * TCP flow into super-packets on write. Either way the caller sees and gives plain IP packets.
   */
  readonly offload: boolean;
  /**
   * Reads up to min(bufs.length, sizes.length) plain IP packets: packet i lands in bufs[i] at
   * `offset` (headroom for headers the caller writes in front), sizes[i] is its length. A TCP
   * super-packet is cut into segments of at most `segmentLimit` octets (default: what a buffer
   * holds); all buffers are of one size. Returns the count; fewer than asked means the device is
   * drained. Throws TunError only when the device is unusable.
   */
  readBatch(bufs: readonly Uint8Array[], sizes: Int32Array, offset: number, segmentLimit?: number): number;
  /**
   * Writes one IP packet buf[offset, offset+length). False when the kernel refused it (counted).
   * With offload a TCP segment may wait to join the next ones until the current callback returns.
   * `valid` (offload only): the packet's checksums need no verifying, by msnld nor by the kernel
   * (VIRTIO_NET_HDR_F_DATA_VALID): it came authenticated by a keyed connection's AEAD.
   */
  write(buf: Uint8Array, offset: number, length: number, valid?: boolean): boolean;
  /** Writes packets 0..count-1 (bufs[i] at offset, sizes[i] bytes); refused ones are counted and
   *  skipped. Returns how many the kernel took. */
  writeBatch(bufs: readonly Uint8Array[], sizes: Int32Array, offset: number, count?: number): number;
  /** Frames read that could not be turned into plain packets (offload only); cumulative. */
  readonly readDrops: number;
  /** Joined runs the kernel refused after write() had taken their packets (offload only); cumulative. */
  readonly runsRefused: number;
  /** cb runs once per readable event (level-triggered, and again while packets already read wait)
   *  and should readBatch until drained or a per-event budget is spent. null stops watching. */
  onReadable(cb: (() => void) | null): void;
  /** Runs the onReadable callback now, as a readable event would (it reads nothing when nothing
   *  waits): msnld's warm-up runs the real devices' read path so. Optional. */
  pollNow?(): void;
  setMtu(mtu: number): void;
  getMtu(): number;
  setAddress(address: number, prefixLength: number, peer?: number): void;
  getAddress(): TunAddress | undefined;
  removeAddress(): void;
  setUp(up: boolean): void;
  isUp(): boolean;
  flags(): TunFlags;
  ifindex(): number;
  stats(): TunStats;
  /** Stops watching, closes the fd; a non-persistent device disappears. Idempotent. */
  close(): void;
}

export interface TunOpenOptions {
  mtu?: number;
  address?: { address: number; prefixLength: number; peer?: number };
  /** Bring the interface up after configuring it (default true when an address is given). */
  up?: boolean;
  /** For comparison benches only: a blocking fd (reads would then park a thread). Default false. */
  blocking?: boolean;
  /** TCP segmentation offload (see TunDevice.offload). Default false. */
  offload?: boolean;
  /** An offloading device reads a batch's packets through io_uring, many for one syscall, where
   *  the kernel allows it (TUN has no read of many packets; a read() per 64-octet packet was the
   *  largest item of a sending msnld). Default true. */
  readRing?: boolean;
}

/** Frames read per native call by an offloading device (each buffer holds a 64 KiB frame). */
const OFFLOAD_READ_BATCH = 32;

export function decodeFlags(raw: number): TunFlags {
  return {
    up: (raw & IFF.UP) !== 0,
    running: (raw & IFF.RUNNING) !== 0,
    pointToPoint: (raw & IFF.POINTOPOINT) !== 0,
    noArp: (raw & IFF.NOARP) !== 0,
    multicast: (raw & IFF.MULTICAST) !== 0,
    raw,
  };
}

function checkPrefix(name: string, prefixLength: number): void {
  if (!Number.isInteger(prefixLength) || prefixLength < 0 || prefixLength > 32) {
    throw new TunError(`${name}: failed to set address: prefix length ${prefixLength} is not 0..32`, name, undefined);
  }
}

/** The real TUN device: an fd from /dev/net/tun bound to one interface name. */
export class KernelTun implements TunDevice {
  private fd: number;
  private poll: NativeFdPoll | undefined;
  private writeDrops = 0;
  /** The virtio_net_hdr framing, when the fd speaks it (IFF_VNET_HDR). */
  private readonly framing: VnetFraming | undefined;
  private refireScheduled = false;
  /** The watch's event handler (onReadable), for pollNow. */
  private fire: (() => void) | undefined;
  /** Whether the fd speaks virtio_net_hdr frames (IFF_VNET_HDR). Should the kernel refuse
   *  TUNSETOFFLOAD it hands over no super-packets, but joined writes are still taken. */
  readonly offload: boolean;
  /** Whether writes join runs of UDP datagrams (the kernel takes UDP_L4 super-packets, 6.2+). */
  readonly udpSegmentation: boolean;

  private constructor(
    private readonly native: NativeTun,
    readonly name: string,
    fd: number,
    vnetHeader: boolean,
    udpSegmentation: boolean,
    private readonly readRing: boolean,
  ) {
    this.fd = fd;
    this.offload = vnetHeader;
    this.udpSegmentation = vnetHeader && udpSegmentation;
    if (vnetHeader) {
      this.framing = new VnetFraming(
        {
          readFrames: (_bufs, sizes, slab, stride) => this.readSlab(slab, stride, sizes),
          writeFrame: (header, buf, offset, length) => this.counted(this.native.writeWithHeader(this.live('write'), header, buf, offset, length)),
        },
        OFFLOAD_READ_BATCH,
        udpSegmentation,
      );
    }
  }

  /** Creates the TUN device `name` (or attaches to a persistent one) and applies opts. */
  static open(name: string, opts: TunOpenOptions = {}): KernelTun {
    const native = loadNative();
    let opened: { fd: number; name: string; vnetHeader: boolean; offload: boolean; udpSegmentation?: boolean };
    try {
      opened = native.openTun(name, opts.blocking !== true, opts.offload === true);
    } catch (err) {
      throw tunError(name, 'create', err);
    }
    const readRing = opts.readRing !== false && opts.blocking !== true;
    // The ring is set up now, with the device, rather than by the first packet read (io_uring_setup
    // and three mapped regions were work on the first packet's path, which no warm-up reaches).
    if (readRing && opened.vnetHeader) native.readRingUsable();
    const dev = new KernelTun(native, opened.name, opened.fd, opened.vnetHeader, opened.udpSegmentation === true, readRing);
    try {
      if (opts.mtu !== undefined) dev.setMtu(opts.mtu);
      if (opts.address !== undefined) dev.setAddress(opts.address.address, opts.address.prefixLength, opts.address.peer);
      if (opts.up ?? opts.address !== undefined) dev.setUp(true);
    } catch (err) {
      dev.close();
      throw err;
    }
    return dev;
  }

  get closed(): boolean {
    return this.fd < 0;
  }

  /** The file descriptor (for benches and tests; -1 once closed). */
  get fileDescriptor(): number {
    return this.fd;
  }

  private live(action: string): number {
    if (this.fd < 0) throw new TunError(`${this.name}: failed to ${action}: device closed`, this.name, 'EBADF');
    return this.fd;
  }

  get readDrops(): number {
    return this.framing?.readDrops ?? 0;
  }

  get runsRefused(): number {
    return this.framing?.runsRefused ?? 0;
  }

  readBatch(bufs: readonly Uint8Array[], sizes: Int32Array, offset: number, segmentLimit: number = MAX_IP_PACKET): number {
    if (this.framing !== undefined) return this.framing.readBatch(bufs, sizes, offset, segmentLimit);
    return this.readPlain(bufs, sizes, offset);
  }

  /** One native batch of reads, one packet (or frame) each. */
  private readPlain(bufs: readonly Uint8Array[], sizes: Int32Array, offset: number): number {
    const n = this.native.readBatch(this.live('read'), bufs, sizes, offset);
    if (n < 0) throw tunError(this.name, 'read', n);
    return n;
  }

  /** One native batch of reads into one slab (the offload framing's frames), one frame each. */
  private readSlab(slab: Uint8Array, stride: number, sizes: Int32Array): number {
    const n = this.native.readSlab(this.live('read'), slab, stride, sizes, this.readRing);
    if (n < 0) throw tunError(this.name, 'read', n);
    return n;
  }

  /** true for a write the kernel took; counts a refused one. */
  private counted(r: number): boolean {
    if (r >= 0) return true;
    this.writeDrops++;
    return false;
  }

  write(buf: Uint8Array, offset: number, length: number, valid = false): boolean {
    if (this.framing !== undefined) return this.framing.write(buf, offset, length, valid);
    return this.counted(this.native.write(this.live('write'), buf, offset, length));
  }

  writeBatch(bufs: readonly Uint8Array[], sizes: Int32Array, offset: number, count: number = bufs.length): number {
    const fd = this.live('write');
    if (this.framing !== undefined) return this.framing.writeBatch(bufs, sizes, offset, count);
    const end = Math.min(count, bufs.length, sizes.length);
    let i = 0;
    let written = 0;
    while (i < end) {
      const r = this.native.writeBatch(fd, bufs, sizes, offset, i, end);
      if (r < 0) {
        this.writeDrops++; // packet i refused: count it, go on with the next
        i++;
        continue;
      }
      if (r === 0) break; // EAGAIN: the kernel queue is full; the rest is not written
      written += r;
      i += r;
    }
    return written;
  }

  onReadable(cb: (() => void) | null): void {
    this.poll?.close();
    this.poll = undefined;
    this.fire = undefined;
    if (cb === null) return;
    const fd = this.live('watch');
    const framing = this.framing;
    // Packets the framing has already read wait in user space, where no fd event announces them:
    // fire again on the next turn of the loop until they are handed out.
    const fire = (): void => {
      cb();
      if (framing === undefined || !framing.pending || this.refireScheduled) return;
      this.refireScheduled = true;
      setImmediate(() => {
        this.refireScheduled = false;
        if (this.poll === poll && !this.closed) fire();
      });
    };
    let poll: NativeFdPoll | undefined;
    try {
      poll = new this.native.FdPoll(fd, fire);
      this.poll = poll;
      this.fire = fire;
    } catch (err) {
      throw tunError(this.name, 'watch for packets', err);
    }
  }

  pollNow(): void {
    if (!this.closed) this.fire?.();
  }

  private call<T>(action: string, f: () => T): T {
    this.live(action);
    try {
      return f();
    } catch (err) {
      throw tunError(this.name, action, err);
    }
  }

  setMtu(mtu: number): void {
    this.call(`set MTU ${mtu}`, () => this.native.setMtu(this.name, mtu));
  }

  getMtu(): number {
    return this.call('get MTU', () => this.native.getMtu(this.name));
  }

  setAddress(address: number, prefixLength: number, peer?: number): void {
    checkPrefix(this.name, prefixLength);
    this.call('set address', () => this.native.setAddress(this.name, address >>> 0, prefixLength, peer === undefined ? -1 : peer >>> 0));
  }

  getAddress(): TunAddress | undefined {
    return this.call('get address', () => this.native.getAddress(this.name)) ?? undefined;
  }

  removeAddress(): void {
    this.call('remove address', () => this.native.setAddress(this.name, 0, 0, -1));
  }

  setUp(up: boolean): void {
    this.call(up ? 'bring up' : 'bring down', () => this.native.setUp(this.name, up));
  }

  isUp(): boolean {
    return this.flags().up;
  }

  flags(): TunFlags {
    return decodeFlags(this.call('get flags', () => this.native.getFlags(this.name)));
  }

  ifindex(): number {
    return this.call('get ifindex', () => this.native.ifindex(this.name));
  }

  stats(): TunStats {
    const s = this.call('get counters', () => this.native.linkStats(this.name));
    const offload = this.framing?.counters();
    return offload === undefined ? { ...s, writeDrops: this.writeDrops } : { ...s, writeDrops: this.writeDrops, offload };
  }

  close(): void {
    if (this.fd < 0) return;
    this.framing?.close();
    this.poll?.close(); // takes the fd out of epoll before it is closed
    this.poll = undefined;
    this.native.closeFd(this.fd);
    this.fd = -1;
  }
}

/** Opens a real TUN device (see KernelTun.open). */
export function openTun(name: string, opts: TunOpenOptions = {}): TunDevice {
  return KernelTun.open(name, opts);
}

/** Whether an interface of this name exists in the current network namespace (no root needed). */
export function interfaceExists(name: string): boolean {
  return loadNative().ifindex(name) > 0;
}
