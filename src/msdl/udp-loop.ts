// UdpLoop: an in-process stand-in for the addon's UdpSocket (udp-addon.ts), for msnld's warm-up
// (src/daemon/warm-daemons.ts). Sockets made by one loop's `native` class pass datagrams to each
// other by port, whatever the address: a send is copied into the receiver's queue and the receiver
// is told it is readable on the next turn of the event loop, as uv_poll would. So two Daemons run
// the batched socket's JavaScript (udp-batch.ts, udp-native.ts) and not only the in-memory hub's,
// with no socket, no syscall and nothing on any network. Bounded: a receiver keeps at most
// `maxQueued` datagrams, the rest are dropped.
import { UV_READABLE, type NativeUdpSocket, type NativeUdpSocketConstructor } from './udp-addon.js';

interface Queued {
  readonly bytes: Uint8Array;
  readonly address: number;
  readonly port: number;
}

export class UdpLoop {
  private readonly sockets = new Map<number, LoopSocket>();
  /** The class to give BatchUdpSocket (through NativeUdpTuning.native). */
  readonly native: NativeUdpSocketConstructor;

  constructor(readonly maxQueued = 256) {
    const loop = this;
    this.native = class extends LoopSocket {
      constructor(address: number | Uint8Array, port: number, _receive: number, _send: number, callback: (status: number, events: number) => void) {
        super(loop, typeof address === 'number' ? address : 0, port, callback);
      }
    };
  }

  /** @internal */
  bind(socket: LoopSocket): void {
    if (this.sockets.has(socket.port)) throw new Error(`port ${socket.port} is in use on this loop`);
    this.sockets.set(socket.port, socket);
  }

  /** @internal */
  unbind(socket: LoopSocket): void {
    if (this.sockets.get(socket.port) === socket) this.sockets.delete(socket.port);
  }

  /** @internal */
  to(port: number): LoopSocket | undefined {
    return this.sockets.get(port);
  }
}

class LoopSocket implements NativeUdpSocket {
  private readonly queue: Queued[] = [];
  private closed = false;
  private told = false;
  private segmented = true;

  constructor(
    private readonly loop: UdpLoop,
    private readonly address: number,
    readonly port: number,
    private readonly callback: (status: number, events: number) => void,
  ) {
    loop.bind(this);
  }

  recvBatch(slab: Uint8Array, slotSize: number, sizes: Int32Array, addrs: Uint32Array, ports: Uint16Array, segs?: Uint16Array): number {
    const room = Math.min(Math.floor(slab.length / slotSize), sizes.length, addrs.length, ports.length);
    let n = 0;
    for (; n < room && this.queue.length > 0; n++) {
      const d = this.queue.shift()!;
      const length = Math.min(d.bytes.length, slotSize);
      slab.set(d.bytes.subarray(0, length), n * slotSize);
      sizes[n] = d.bytes.length > slotSize ? -1 : length;
      addrs[n] = d.address;
      ports[n] = d.port;
      if (segs !== undefined) segs[n] = 0;
    }
    return n;
  }

  sendBatch(slab: Uint8Array, offsets: Uint32Array, lengths: Uint32Array, _addrs: Uint32Array, ports: Uint16Array, start: number, end: number, gsoStatus?: Int32Array): number {
    if (gsoStatus !== undefined) gsoStatus[0] = 0;
    for (let k = start; k < end; k++) {
      const to = this.loop.to(ports[k]!);
      const offset = offsets[k]!;
      if (to !== undefined) to.arrive({ bytes: slab.slice(offset, offset + lengths[k]!), address: this.address, port: this.port });
    }
    return end - start;
  }

  private arrive(datagram: Queued): void {
    if (this.closed || this.queue.length >= this.loop.maxQueued) return;
    this.queue.push(datagram);
    if (this.told) return;
    this.told = true;
    setImmediate(() => {
      this.told = false;
      if (!this.closed && this.queue.length > 0) this.callback(0, UV_READABLE);
    });
  }

  setSegmentation(on: boolean): void {
    this.segmented = on;
  }

  segmentation(): boolean {
    return this.segmented;
  }

  setCoalescing(_on: boolean): boolean {
    return false;
  }

  watchWritable(_on: boolean): void {}

  local(): { address: number; port: number } {
    return { address: this.address, port: this.port };
  }

  bufferSizes(): { receive: number; send: number } {
    return { receive: 0, send: 0 };
  }

  ref(_keepAlive: boolean): void {}

  close(): void {
    this.closed = true;
    this.queue.length = 0;
    this.loop.unbind(this);
  }
}
