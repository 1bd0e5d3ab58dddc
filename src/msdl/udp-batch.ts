// BatchUdpSocket: an IPv4 UDP socket that moves datagrams in batches through the addon
// (udp-addon.ts), where node:dgram spends a syscall, a callback and a Buffer on each.
// - Sends are copied into a preallocated slab and flushed with one sendmmsg per burst: a microtask
//   after the current callback, or at once when a batch is full.
// - When the kernel says EAGAIN the rest stays queued and the socket waits for UV_WRITABLE.
// - Receives land in a preallocated slab of slots and are handed on as (slab, offset, length),
//   valid only during the onReceive call.
// - Runs of same-size datagrams to one peer go out as one UDP GSO message and may come in as one
//   UDP GRO slot, split back here. Whether GSO stays on after a refusal is gso.ts's rule.
// - Datagrams never fragment (DF). One the kernel refuses as too big for its path (EMSGSIZE: larger
//   than the outgoing link, or than a path MTU learned from ICMP) is dropped, counted, and told to
//   onTooBig once per destination and flush; what it means is decided above (src/msnl/pmtu.ts).
// - Nothing allocates per datagram. Failures are counted, never thrown.
import { errnoName, sysErrorOf } from '../abi/errno.js';
import { loadUdpSocket, UV_READABLE, UV_WRITABLE, type NativeUdpSocket, type NativeUdpSocketConstructor } from './udp-addon.js';
import { copyOctets } from '../abi/bytes.js';
import { GsoPolicy } from './gso.js';
import { formatDottedQuad } from '../abi/inet.js';

const EMSGSIZE = 90;

/** Largest UDP payload over IPv4 (65535 - 20 - 8). */
export const MAX_UDP_PAYLOAD = 65507;
/** The kernel's per-call message cap for sendmmsg/recvmmsg (UIO_MAXIOV). */
export const MAX_BATCH = 1024;

export interface BatchUdpOptions {
  /** IPv4 address to bind, host order (0 = any). */
  readonly address: number;
  /** UDP port to bind; 0 picks a free one. */
  readonly port: number;
  /** Gets every datagram as slab[offset, offset + length) of a reused receive slab, valid only during the call. */
  readonly onReceive: (slab: Uint8Array, offset: number, length: number, address: number, port: number) => void;
  /** Socket errors and exceptions thrown by onReceive (the socket keeps running). */
  readonly onError?: (error: Error) => void;
  /** A datagram to address:port was refused as too big for the path (EMSGSIZE, DF). */
  readonly onTooBig?: (address: number, port: number) => void;
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
  /** recvmmsg rounds per readable event before yielding to the loop (default 8). */
  readonly receiveRounds?: number;
  /** For tests: the native socket class (default: the addon's). */
  readonly native?: NativeUdpSocketConstructor;
}

export interface BatchUdpCounters {
  datagramsSent: number;
  bytesSent: number;
  datagramsReceived: number;
  bytesReceived: number;
  /** sendmmsg / recvmmsg calls that moved at least one datagram. */
  sendBatches: number;
  receiveBatches: number;
  /** Datagrams the kernel refused (EMSGSIZE, EPERM, ...), or larger than MAX_UDP_PAYLOAD. */
  sendErrors: number;
  /** Datagrams dropped because the queue was full or the socket closed with them queued. */
  queueDrops: number;
  /** Times a send burst hit EAGAIN and waited for writability. */
  sendBlocked: number;
  /** Received datagrams longer than a slot (dropped), receive errors, onReceive exceptions. */
  truncated: number;
  receiveErrors: number;
  /** Slots that held a coalesced run of datagrams (UDP GRO). */
  coalescedRuns: number;
  /** sendmmsg calls in which the kernel refused a GSO run (sent plainly instead). */
  gsoRefused: number;
  handlerErrors: number;
  /** Datagrams refused as too big for their path (EMSGSIZE; never fragmented). */
  tooBig: number;
}

export class UdpSocketError extends Error {
  constructor(message: string, readonly code: string | undefined) {
    super(message);
    this.name = 'UdpSocketError';
  }
}

/** The addon's error (or -errno) as `failed to <action> UDP socket <where>: <cause> [CODE]`. */
export function udpError(where: string, action: string, cause: unknown): UdpSocketError {
  const { code, message } = sysErrorOf(cause);
  const text = message !== undefined && message !== '' ? message : (code ?? String(cause));
  if (text.startsWith('failed to ')) return new UdpSocketError(code === undefined ? text : `${text} [${code}]`, code);
  return new UdpSocketError(`failed to ${action} UDP socket ${where}: ${text}${code === undefined ? '' : ` [${code}]`}`, code);
}

export function newBatchUdpCounters(): BatchUdpCounters {
  return {
    datagramsSent: 0, bytesSent: 0, datagramsReceived: 0, bytesReceived: 0, sendBatches: 0, receiveBatches: 0,
    sendErrors: 0, queueDrops: 0, sendBlocked: 0, truncated: 0, receiveErrors: 0, coalescedRuns: 0, gsoRefused: 0, handlerErrors: 0, tooBig: 0,
  };
}

export class BatchUdpSocket {
  readonly counters: BatchUdpCounters = newBatchUdpCounters();
  private readonly native: NativeUdpSocket;
  private readonly name: string;
  private closed = false;

  // Receive side: slots of slotSize octets, metadata per slot.
  private readonly rxSlab: Uint8Array;
  private readonly rxSizes: Int32Array;
  private readonly rxAddrs: Uint32Array;
  private readonly rxPorts: Uint16Array;
  private readonly rxSegs: Uint16Array;
  private readonly slotSize: number;
  private readonly rounds: number;

  // Send side: datagrams head..tail-1 are queued, packed in txSlab[0, used).
  private readonly txSlab: Uint8Array;
  private readonly txOffsets: Uint32Array;
  private readonly txLengths: Uint32Array;
  private readonly txAddrs: Uint32Array;
  private readonly txPorts: Uint16Array;
  /** Where the addon reports the errno of a refused GSO run (0: none). */
  private readonly gsoStatus = new Int32Array(1);
  private readonly gso = new GsoPolicy();
  private head = 0;
  private tail = 0;
  private used = 0;
  private scheduled = false;
  private blocked = false;
  private readonly flushTask = (): void => {
    this.scheduled = false;
    if (!this.blocked && !this.closed) this.flush();
  };

  private constructor(private readonly options: BatchUdpOptions) {
    const batch = Math.min(Math.max(1, options.receiveBatch ?? 64), MAX_BATCH);
    this.slotSize = Math.max(1, options.slotSize ?? 65536);
    this.rounds = Math.max(1, options.receiveRounds ?? 8);
    this.rxSlab = new Uint8Array(batch * this.slotSize);
    this.rxSizes = new Int32Array(batch);
    this.rxAddrs = new Uint32Array(batch);
    this.rxPorts = new Uint16Array(batch);
    this.rxSegs = new Uint16Array(batch);
    const length = Math.max(1, options.queueLength ?? 4096);
    this.txSlab = new Uint8Array(Math.max(MAX_UDP_PAYLOAD, options.queueBytes ?? 4 << 20));
    this.txOffsets = new Uint32Array(length);
    this.txLengths = new Uint32Array(length);
    this.txAddrs = new Uint32Array(length);
    this.txPorts = new Uint16Array(length);
    const where = `${formatDottedQuad(options.address)}:${options.port}`;
    const Native = options.native ?? loadUdpSocket();
    const rcv = options.receiveBufferSize ?? 4 << 20;
    const snd = options.sendBufferSize ?? 4 << 20;
    try {
      this.native = new Native(options.address >>> 0, options.port, rcv, snd, (status, events) => this.onEvent(status, events));
    } catch (error) {
      throw udpError(where, 'bind', error);
    }
    this.native.setSegmentation(options.segmentation ?? true);
    if ((options.coalescing ?? true) && this.slotSize >= 65536) this.native.setCoalescing(true);
    const local = this.native.local();
    this.name = `${formatDottedQuad(local.address)}:${local.port}`;
  }

  /** Binds the socket and starts receiving; throws UdpSocketError naming the address and cause. */
  static open(options: BatchUdpOptions): BatchUdpSocket {
    return new BatchUdpSocket(options);
  }

  /** The bound address and port (host-order IPv4). */
  local(): { address: number; port: number } {
    return this.native.local();
  }

  /** `A.B.C.D:PORT` as bound. */
  describe(): string {
    return this.name;
  }

  /** SO_RCVBUF / SO_SNDBUF as the kernel set them. */
  bufferSizes(): { receive: number; send: number } {
    return this.native.bufferSizes();
  }

  /** Datagrams queued and not yet accepted by the kernel. */
  queued(): number {
    return this.tail - this.head;
  }

  /** Whether sends use UDP GSO (false when turned off or refused by the route). */
  segmentation(): boolean {
    return this.native.segmentation();
  }

  /** Whether the queue waits for the socket to become writable. */
  isBlocked(): boolean {
    return this.blocked;
  }

  /**
   * Queues one datagram, bytes[offset, offset + length), to address:port (copied: the caller may
   * reuse them). False when it was dropped (queue full, too large, closed): counted, never thrown.
   */
  send(address: number, port: number, bytes: Uint8Array, offset = 0, length = bytes.length - offset): boolean {
    if (this.closed) {
      this.counters.queueDrops++;
      return false;
    }
    if (length > MAX_UDP_PAYLOAD) {
      this.counters.sendErrors++;
      return false;
    }
    if (this.tail === this.txOffsets.length || this.used + length > this.txSlab.length) {
      if (!this.blocked) this.flush();
      if (this.tail === this.txOffsets.length || this.used + length > this.txSlab.length) {
        this.counters.queueDrops++;
        return false;
      }
    }
    const k = this.tail++;
    copyOctets(bytes, offset, this.txSlab, this.used, length);
    this.txOffsets[k] = this.used;
    this.txLengths[k] = length;
    this.txAddrs[k] = address;
    this.txPorts[k] = port;
    this.used += length;
    if (this.blocked) return true;
    if (this.tail - this.head >= MAX_BATCH) this.flush();
    else if (!this.scheduled) {
      this.scheduled = true;
      queueMicrotask(this.flushTask);
    }
    return true;
  }

  /** Hands the queue to the kernel now (normally a microtask does it after the current burst). */
  flush(): void {
    if (this.closed) return;
    const counters = this.counters;
    let toldAddress = -1;
    let toldPort = -1;
    while (this.head < this.tail) {
      const r = this.native.sendBatch(this.txSlab, this.txOffsets, this.txLengths, this.txAddrs, this.txPorts, this.head, this.tail, this.gsoStatus);
      if (this.gsoStatus[0] !== 0) this.gsoRefusedWith(this.gsoStatus[0] as number);
      if (r < 0) {
        counters.sendErrors++;
        if (r === -EMSGSIZE) {
          counters.tooBig++;
          const address = this.txAddrs[this.head] as number;
          const port = this.txPorts[this.head] as number;
          if (address !== toldAddress || port !== toldPort) {
            toldAddress = address;
            toldPort = port;
            this.tellTooBig(address, port);
          }
        }
        this.report(this.head, r);
        this.head++;
        continue;
      }
      if (r === 0) break;
      counters.sendBatches++;
      counters.datagramsSent += r;
      for (let k = this.head; k < this.head + r; k++) counters.bytesSent += this.txLengths[k] as number;
      this.head += r;
    }
    if (this.head === this.tail) {
      this.head = this.tail = this.used = 0;
      if (this.blocked) {
        this.blocked = false;
        this.native.watchWritable(false);
      }
      return;
    }
    this.compact();
    if (!this.blocked) {
      this.blocked = true;
      counters.sendBlocked++;
      this.native.watchWritable(true);
    }
  }

  /** Stops receiving, tries one last flush, drops (and counts) what is still queued. Idempotent. */
  close(): void {
    if (this.closed) return;
    if (!this.blocked) {
      try {
        this.flush();
      } catch {
        // closing anyway
      }
    }
    this.closed = true;
    this.counters.queueDrops += this.tail - this.head;
    this.head = this.tail = this.used = 0;
    this.native.close();
  }

  get isClosed(): boolean {
    return this.closed;
  }

  /** Whether the socket keeps the event loop alive (default true). */
  ref(keepAlive: boolean): void {
    if (!this.closed) this.native.ref(keepAlive);
  }

  // Moves the unsent datagrams to the front so the slab's tail is free again.
  private compact(): void {
    if (this.head === 0) return;
    const base = this.txOffsets[this.head] as number;
    this.txSlab.copyWithin(0, base, this.used);
    this.txOffsets.copyWithin(0, this.head, this.tail);
    this.txLengths.copyWithin(0, this.head, this.tail);
    this.txAddrs.copyWithin(0, this.head, this.tail);
    this.txPorts.copyWithin(0, this.head, this.tail);
    this.tail -= this.head;
    this.head = 0;
    this.used -= base;
    for (let k = 0; k < this.tail; k++) this.txOffsets[k] = (this.txOffsets[k] as number) - base;
  }

  private onEvent(status: number, events: number): void {
    if (this.closed) return;
    if (status < 0) {
      this.counters.receiveErrors++;
      this.options.onError?.(udpError(this.name, 'watch', status));
      return;
    }
    if ((events & UV_WRITABLE) !== 0 && this.blocked) this.flush();
    if ((events & UV_READABLE) !== 0) this.receive();
  }

  private receive(): void {
    const { rxSlab, rxSizes, rxAddrs, rxPorts, rxSegs, slotSize, counters } = this;
    const batch = rxSizes.length;
    for (let round = 0; round < this.rounds && !this.closed; round++) {
      const n = this.native.recvBatch(rxSlab, slotSize, rxSizes, rxAddrs, rxPorts, rxSegs);
      if (n < 0) {
        counters.receiveErrors++;
        this.options.onError?.(udpError(this.name, 'receive on', n));
        return;
      }
      if (n === 0) return;
      counters.receiveBatches++;
      for (let i = 0; i < n && !this.closed; i++) {
        const size = rxSizes[i] as number;
        if (size < 0) {
          counters.truncated++;
          continue;
        }
        const base = i * slotSize;
        const seg = rxSegs[i] as number;
        if (seg === 0) {
          this.deliver(base, size, rxAddrs[i] as number, rxPorts[i] as number);
          continue;
        }
        // A coalesced run (UDP GRO): datagrams of `seg` octets, the last one possibly shorter.
        counters.coalescedRuns++;
        for (let off = 0; off < size && !this.closed; off += seg) this.deliver(base + off, Math.min(seg, size - off), rxAddrs[i] as number, rxPorts[i] as number);
      }
      if (n < batch) return;
    }
  }

  private deliver(offset: number, size: number, address: number, port: number): void {
    this.counters.datagramsReceived++;
    this.counters.bytesReceived += size;
    try {
      this.options.onReceive(this.rxSlab, offset, size, address, port);
    } catch (error) {
      this.counters.handlerErrors++;
      this.options.onError?.(error instanceof Error ? error : new Error(String(error)));
    }
  }

  private tellTooBig(address: number, port: number): void {
    try {
      this.options.onTooBig?.(address, port);
    } catch (error) {
      this.counters.handlerErrors++;
      this.options.onError?.(error instanceof Error ? error : new Error(String(error)));
    }
  }

  // A GSO run was refused (and went plainly): the policy says whether segmentation goes off.
  private gsoRefusedWith(errno: number): void {
    this.counters.gsoRefused++;
    if (!this.gso.refused(errno) || !this.native.segmentation()) return;
    this.native.setSegmentation(false);
    const code = errnoName(errno);
    this.options.onError?.(new UdpSocketError(`UDP socket ${this.name}: UDP GSO turned off: the route cannot segment (${code})`, code));
  }

  private report(k: number, errno: number): void {
    const onError = this.options.onError;
    if (onError === undefined) return;
    const to = `${formatDottedQuad(this.txAddrs[k] as number)}:${this.txPorts[k] as number}`;
    const code = errnoName(-errno);
    onError(new UdpSocketError(`failed to send datagram to ${to} from UDP socket ${this.name}: ${code}`, code));
  }
}
