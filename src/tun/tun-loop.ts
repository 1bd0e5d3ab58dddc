// TunLoop: an in-process stand-in for the TUN half of the addon (native.ts), for msnld's warm-up
// (src/daemon/warm-daemons.ts), as src/msdl/udp-loop.ts is for its UDP socket. Its devices are
// the real KernelTun (device.ts) over this stand-in, so the warm-up's daemons run the code msnld's
// own devices run on a first call (KernelTun's reads, writes and readiness callback, the offload
// framing over them) and not only the fake device's (fake.ts): a first ping used to meet that code
// cold, interpreted and without feedback. Nothing is opened, nothing reaches the kernel: a packet
// injected is a frame in a queue, the device is told it is readable on the next turn of the event
// loop (as uv_poll would), and what the device writes goes to the peer's onPacket. Bounded: a
// device keeps at most `maxQueued` frames, the rest are dropped.
import { KernelTun, type TunDevice } from './device.js';
import type { NativeFdPoll, NativeLinkStats, NativeTun } from './native.js';
import { IFF } from './native.js';
import { VNET_HDR_LEN } from './offload.js';

/** The other side of a loop device: what the kernel would route into it and read from it. */
export interface TunLoopPeer {
  /** Queues an IP packet for the device to read (as the kernel routing it out of msN). */
  inject(packet: Uint8Array): void;
  /** Gets each IP packet the device writes (as the kernel receiving it on msN). */
  onPacket(handler: (packet: Uint8Array) => void): void;
}

interface LoopDevice {
  readonly name: string;
  readonly vnetHeader: boolean;
  readonly queue: Uint8Array[];
  handler: (packet: Uint8Array) => void;
  poll: ((status: number) => void) | undefined;
  told: boolean;
  mtu: number;
  flags: number;
  address: { address: number; prefixLength: number } | null;
}

const NO_STATS: NativeLinkStats = { rxPackets: 0, txPackets: 0, rxBytes: 0, txBytes: 0, rxErrors: 0, txErrors: 0, rxDropped: 0, txDropped: 0 };

export class TunLoop {
  private readonly byFd = new Map<number, LoopDevice>();
  private readonly byName = new Map<string, LoopDevice>();
  private nextFd = 1_000_000;
  private readonly native: NativeTun;

  constructor(readonly maxQueued = 64) {
    this.native = this.makeNative();
  }

  /** A KernelTun named `name` over this loop (framed as msnld opens it: offload on ms0..ms2). */
  open(name: string, options: { mtu: number; offload: boolean }): { device: TunDevice; peer: TunLoopPeer } {
    const fd = this.nextFd++;
    const dev: LoopDevice = { name, vnetHeader: options.offload, queue: [], handler: () => undefined, poll: undefined, told: false, mtu: options.mtu, flags: 0, address: null };
    this.byFd.set(fd, dev);
    this.byName.set(name, dev);
    const device = KernelTun.overNative(this.native, name, fd, options.offload, false, true);
    const peer: TunLoopPeer = {
      inject: (packet) => {
        if (dev.queue.length >= this.maxQueued) return;
        const head = dev.vnetHeader ? VNET_HDR_LEN : 0;
        const frame = new Uint8Array(head + packet.length);
        frame.set(packet, head); // a zero virtio_net_hdr: no GSO, no checksum to finish
        dev.queue.push(frame);
        this.tell(dev);
      },
      onPacket: (handler) => {
        dev.handler = handler;
      },
    };
    return { device, peer };
  }

  /** Tells the device it is readable on the next turn, once, as uv_poll would while it has frames. */
  private tell(dev: LoopDevice): void {
    if (dev.told || dev.poll === undefined) return;
    dev.told = true;
    setImmediate(() => {
      dev.told = false;
      if (dev.queue.length > 0) dev.poll?.(0);
      if (dev.queue.length > 0) this.tell(dev);
    });
  }

  private device(fd: number): LoopDevice {
    const dev = this.byFd.get(fd);
    if (dev === undefined) throw Object.assign(new Error('bad file descriptor'), { errno: -9, code: 'EBADF' });
    return dev;
  }

  private named(name: string): LoopDevice {
    const dev = this.byName.get(name);
    if (dev === undefined) throw Object.assign(new Error(`no such device ${name}`), { errno: -19, code: 'ENODEV' });
    return dev;
  }

  private deliver(dev: LoopDevice, frame: Uint8Array): number {
    const head = dev.vnetHeader ? VNET_HDR_LEN : 0;
    dev.handler(frame.slice(head));
    return frame.length;
  }

  private makeNative(): NativeTun {
    const loop = this;
    class LoopPoll implements NativeFdPoll {
      constructor(private readonly fd: number, callback: (status: number) => void) {
        const dev = loop.device(fd);
        dev.poll = callback;
        if (dev.queue.length > 0) loop.tell(dev);
      }

      close(): void {
        const dev = loop.byFd.get(this.fd);
        if (dev !== undefined) dev.poll = undefined;
      }

      ref(): void {}
    }
    const stub: Partial<NativeTun> = {
      closeFd: (fd) => {
        const dev = this.byFd.get(fd);
        this.byFd.delete(fd);
        if (dev !== undefined && this.byName.get(dev.name) === dev) this.byName.delete(dev.name);
      },
      readBatch: (fd, bufs, sizes, offset) => {
        const dev = this.device(fd);
        let n = 0;
        for (; n < Math.min(bufs.length, sizes.length) && dev.queue.length > 0; n++) {
          const frame = dev.queue.shift()!;
          bufs[n]!.set(frame.subarray(0, bufs[n]!.length - offset), offset);
          sizes[n] = Math.min(frame.length, bufs[n]!.length - offset);
        }
        return n;
      },
      readSlab: (fd, slab, stride, sizes) => {
        const dev = this.device(fd);
        let n = 0;
        for (; n < Math.min(sizes.length, Math.floor(slab.length / stride)) && dev.queue.length > 0; n++) {
          const frame = dev.queue.shift()!.subarray(0, stride);
          slab.set(frame, n * stride);
          sizes[n] = frame.length;
        }
        return n;
      },
      readRingUsable: () => true,
      write: (fd, buf, offset, length) => this.deliver(this.device(fd), buf.subarray(offset, offset + length)),
      writeWithHeader: (fd, header, buf, offset, length) => {
        const frame = new Uint8Array(header.length + length);
        frame.set(header);
        frame.set(buf.subarray(offset, offset + length), header.length);
        return this.deliver(this.device(fd), frame);
      },
      writeBatch: (fd, bufs, sizes, offset, start, end) => {
        const dev = this.device(fd);
        for (let i = start; i < end; i++) this.deliver(dev, bufs[i]!.subarray(offset, offset + sizes[i]!));
        return end - start;
      },
      FdPoll: LoopPoll,
      setMtu: (name, mtu) => void (this.named(name).mtu = mtu),
      getMtu: (name) => this.named(name).mtu,
      setAddress: (name, address, prefixLength) => void (this.named(name).address = address === 0 ? null : { address, prefixLength }),
      getAddress: (name) => this.named(name).address,
      getFlags: (name) => this.named(name).flags,
      setUp: (name, up) => {
        const dev = this.named(name);
        dev.flags = up ? dev.flags | IFF.UP | IFF.RUNNING : dev.flags & ~(IFF.UP | IFF.RUNNING);
      },
      ifindex: (name) => (this.byName.has(name) ? 1 : 0),
      linkStats: () => NO_STATS,
    };
    return stub as NativeTun;
  }
}
