// TUN offload behind the TunDevice interface, shared by the kernel's device (device.ts) and the
// fake (fake.ts), as wireguard-go's NativeTun does with handleVirtioRead/handleGRO: reads take
// frames (virtio_net_hdr + packet, possibly a TCP super-packet) in batches into buffers of its
// own and hand out plain IP packets cut to the caller's segment limit, resuming where it left off
// when one super-packet gives more packets than the caller has buffers; writes join runs of one
// TCP flow into super-packets, written once the current burst's callback has returned (a
// microtask) or at the end of a writeBatch. Nothing allocates per packet.

import { GroCoalescer, type VnetWrite } from './offload-coalesce.js';
import { GsoSplitter, MAX_IP_PACKET, VNET_HDR_LEN, VnetGso } from './offload.js';

/** The frame I/O of a device opened with IFF_VNET_HDR: the kernel's fd, or the fake's queue. */
export interface FrameIo {
  /**
   * Reads up to min(bufs.length, sizes.length) frames (virtio_net_hdr + packet), frame i into
   * bufs[i] at 0 and its length into sizes[i]. Returns the count; fewer than asked means drained.
   * bufs[i] is slab[i * stride, (i + 1) * stride): a reader may fill the slab in one native call.
   */
  readFrames(bufs: readonly Uint8Array[], sizes: Int32Array, slab: Uint8Array, stride: number): number;
  /** Writes the 10-octet header and then buf[off, off+len) as one frame; false when refused. */
  writeFrame: VnetWrite;
}

/** What the offload did, for TunStats. */
export interface OffloadCounters {
  /** Frames read that held a TCP super-packet, and the packets cut from them. */
  readonly superPacketsRead: number;
  readonly segmentsRead: number;
  /** Super-packets written, and the packets joined into them. */
  readonly superPacketsWritten: number;
  readonly segmentsJoined: number;
  /** Frames read that could not be turned into plain packets (malformed, unsupported GSO). */
  readonly readDrops: number;
  /** Joined runs the device refused after write() had taken their packets. */
  readonly runsRefused: number;
}

export class VnetFraming {
  /** The frames read in one batch: views of one slab (FrameIo.readFrames). */
  private readonly slab: Uint8Array;
  private readonly frames: Uint8Array[];
  private readonly frameSizes: Int32Array;
  private frameCount = 0;
  private frameNext = 0;
  /** The last read came back short (fewer frames than asked: the device was empty). */
  private drained = false;
  private readonly splitter = new GsoSplitter();
  private readonly coalescer: GroCoalescer;
  private flushScheduled = false;
  private closed = false;
  private superPacketsRead = 0;
  private segmentsRead = 0;
  /** Frames that could not be turned into plain packets; cumulative. */
  readDrops = 0;
  private readonly flushTask = (): void => {
    this.flushScheduled = false;
    if (!this.closed) this.coalescer.flush();
  };

  /** batch: frames read per call into the device (each buffer holds the largest frame); udp:
   *  whether the device takes UDP_L4 super-packets (then runs of UDP datagrams are joined too). */
  constructor(
    private readonly io: FrameIo,
    batch: number,
    udp = false,
  ) {
    const stride = VNET_HDR_LEN + MAX_IP_PACKET;
    this.slab = new Uint8Array(Math.max(1, batch) * stride);
    this.frames = Array.from({ length: Math.max(1, batch) }, (_, i) => this.slab.subarray(i * stride, (i + 1) * stride));
    this.frameSizes = new Int32Array(this.frames.length);
    this.coalescer = new GroCoalescer(io.writeFrame, MAX_IP_PACKET, udp);
  }

  /** Whether packets of frames already read are waiting to be handed out (no fd event will say so). */
  get pending(): boolean {
    return this.splitter.pending || this.frameNext < this.frameCount;
  }

  /** Joined runs the device refused after write() had taken their packets; cumulative. */
  get runsRefused(): number {
    return this.coalescer.counters.runsRefused;
  }

  /**
   * TunDevice.readBatch: plain packets into bufs[i] at offset, super-packets cut to segmentLimit
   * octets. Every buffer must hold offset + the longest packet (the first buffer's room is used
   * for all of one frame's packets).
   */
  readBatch(bufs: readonly Uint8Array[], sizes: Int32Array, offset: number, segmentLimit: number): number {
    const want = Math.min(bufs.length, sizes.length);
    const splitter = this.splitter;
    let n = 0;
    // A read that came back short found the device empty: once its frames are handed out (by
    // this call or the next) no read follows in the same call (it would cost a system call to
    // find nothing; the device wakes the caller again when it has more).
    if (!splitter.pending && this.frameNext === this.frameCount) this.drained = false;
    while (n < want) {
      const buf = bufs[n];
      if (buf === undefined || buf.length <= offset) throw new TypeError('a buffer is not larger than the headroom offset');
      if (splitter.pending) {
        sizes[n++] = splitter.next(buf, offset);
        continue;
      }
      if (this.frameNext === this.frameCount) {
        if (this.drained) break;
        this.frameNext = 0;
        this.frameCount = 0;
        this.frameCount = this.io.readFrames(this.frames, this.frameSizes, this.slab, VNET_HDR_LEN + MAX_IP_PACKET);
        if (this.frameCount === 0) break;
        this.drained = this.frameCount < this.frames.length;
      }
      const k = this.frameNext++;
      const frame = this.frames[k]!;
      const count = splitter.load(frame, 0, this.frameSizes[k]!, segmentLimit, buf.length - offset);
      if (count < 0) this.readDrops++;
      else if ((frame[1]! & ~VnetGso.ECN) !== VnetGso.NONE) {
        this.superPacketsRead++;
        this.segmentsRead += count;
      }
    }
    return n;
  }

  /** TunDevice.write: joins the packet to the pending run or writes it (false: refused at once). */
  write(buf: Uint8Array, offset: number, length: number, valid = false): boolean {
    const ok = this.coalescer.push(buf, offset, length, valid);
    if (this.coalescer.pending && !this.flushScheduled) {
      this.flushScheduled = true;
      queueMicrotask(this.flushTask);
    }
    return ok;
  }

  /** TunDevice.writeBatch: joins what it can and writes everything before it returns. */
  writeBatch(bufs: readonly Uint8Array[], sizes: Int32Array, offset: number, count: number): number {
    const end = Math.min(count, bufs.length, sizes.length);
    let written = 0;
    for (let i = 0; i < end; i++) if (this.coalescer.push(bufs[i]!, offset, sizes[i]!)) written++;
    this.coalescer.flush();
    return written;
  }

  counters(): OffloadCounters {
    const c = this.coalescer.counters;
    return {
      superPacketsRead: this.superPacketsRead,
      segmentsRead: this.segmentsRead,
      superPacketsWritten: c.superPackets,
      segmentsJoined: c.merged,
      readDrops: this.readDrops,
      runsRefused: c.runsRefused,
    };
  }

  /** Forgets what was read and not handed out, and the pending run (the device is closing). */
  close(): void {
    this.closed = true;
    this.coalescer.discard();
    this.frameCount = this.frameNext = 0;
    this.splitter.clear();
  }
}
