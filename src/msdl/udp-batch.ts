// BatchUdpSocket: a UDP socket (IPv4, or IPv6 and dual-stack) that moves datagrams in batches through the addon
// (udp-addon.ts), where node:dgram spends a syscall, a callback and a Buffer on each.
// - Sends are copied into a preallocated slab and flushed with one sendmmsg per burst: a microtask
//   after the current callback, or at once when a batch is full.
// - When the kernel says EAGAIN the rest stays queued and the socket waits for UV_WRITABLE.
// - Receives land in a preallocated slab of slots and are handed on as (slab, offset, length),
//   valid only during the onReceive call (udp-receive.ts; the options are in udp-batch-options.ts).
// - Runs of same-size datagrams to one peer go out as one UDP GSO message and may come in as one
//   UDP GRO slot, split back here. Whether GSO stays on after a refusal is gso.ts's rule.
// - Datagrams never fragment (DF). One the kernel refuses as too big for its path (EMSGSIZE: larger
//   than the outgoing link, or than a path MTU learned from ICMP) is dropped, counted, and told to
//   onTooBig once per destination and flush; what it means is decided above (src/msnl/pmtu.ts).
// - An IPv6 socket keeps each address as 16 octets (four words of the addrs arrays); IPv4 peers of
//   a dual-stack socket are IPv4-mapped (::ffff:A.B.C.D) both ways.
// - Nothing allocates per datagram. Failures are counted, never thrown.
import { errnoName } from '../abi/errno.js';
import { newBatchUdpCounters, udpError, UdpSocketError, type BatchUdpCounters } from './udp-batch-counters.js';
import { loadUdpSocket, UV_READABLE, UV_WRITABLE, type NativeUdpSocket } from './udp-addon.js';
import { MAX_BATCH, MAX_UDP_PAYLOAD, type BatchUdpOptions } from './udp-batch-options.js';
import { BatchReceiver } from './udp-receive.js';
import { copyOctets } from '../abi/bytes.js';
import { GsoPolicy } from './gso.js';
import { formatDottedQuad } from '../abi/inet.js';
import { formatIpv6, mappedIpv4 } from '../abi/inet6.js';

export { newBatchUdpCounters, udpError, UdpSocketError, type BatchUdpCounters };
export { MAX_BATCH, MAX_UDP_PAYLOAD, type BatchUdpOptions };

const EMSGSIZE = 90;

export class BatchUdpSocket {
  readonly counters: BatchUdpCounters = newBatchUdpCounters();
  private readonly native: NativeUdpSocket;
  private readonly name: string;
  private closed = false;

  private readonly rx: BatchReceiver;

  // Send side: datagrams head..tail-1 are queued, packed in txSlab[0, used).
  private readonly txSlab: Uint8Array;
  private readonly txOffsets: Uint32Array;
  private readonly txLengths: Uint32Array;
  private readonly txAddrs: Uint32Array;
  private readonly txAddrOctets: Uint8Array;
  private readonly txPorts: Uint16Array;
  /** Address words per datagram: 1 (IPv4) or 4 (IPv6). */
  private readonly words: number;
  /** Where the addon reports the errno of a refused GSO run (0: none). */
  private readonly gsoStatus = new Int32Array(1);
  private readonly gso = new GsoPolicy();
  private head = 0;
  private tail = 0;
  private used = 0;
  private scheduled = false;
  private blocked = false;
  /** Datagrams the recvmmsg round being handed out holds (0 outside one). */
  private roundSize = 0;
  private readonly flushTask = (): void => {
    this.scheduled = false;
    if (!this.blocked && !this.closed) this.flush();
  };

  private constructor(private readonly options: BatchUdpOptions) {
    this.words = typeof options.address === 'number' ? 1 : 4;
    const length = Math.max(1, options.queueLength ?? 4096);
    this.txSlab = new Uint8Array(Math.max(MAX_UDP_PAYLOAD, options.queueBytes ?? 4 << 20));
    this.txOffsets = new Uint32Array(length);
    this.txLengths = new Uint32Array(length);
    this.txAddrs = new Uint32Array(length * this.words);
    this.txAddrOctets = new Uint8Array(this.txAddrs.buffer);
    this.txPorts = new Uint16Array(length);
    const bind = options.address;
    const where = typeof bind === 'number' ? `${formatDottedQuad(bind)}:${options.port}` : `[${formatIpv6(bind)}]:${options.port}`;
    const Native = options.native ?? loadUdpSocket();
    const rcv = options.receiveBufferSize ?? 4 << 20;
    const snd = options.sendBufferSize ?? 4 << 20;
    try {
      this.native = new Native(typeof bind === 'number' ? bind >>> 0 : bind, options.port, rcv, snd, (status, events) => this.onEvent(status, events));
    } catch (error) {
      throw udpError(where, 'bind', error);
    }
    this.native.setSegmentation(options.segmentation ?? true);
    this.rx = new BatchReceiver(this.native, options, this.counters, this.words, () => this.closed);
    const local = this.native.local();
    this.name = local.name ?? `${formatDottedQuad(local.address)}:${local.port}`;
  }

  /** Binds the socket and starts receiving; throws UdpSocketError naming the address and cause. */
  static open(options: BatchUdpOptions): BatchUdpSocket {
    return new BatchUdpSocket(options);
  }

  /** The bound address (host-order IPv4; 0 for IPv6) and port. */
  local(): { address: number; port: number } {
    return this.native.local();
  }

  /** `A.B.C.D:PORT` or `[IPv6]:PORT` as bound. */
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

  /** 6 for an IPv6 (dual-stack) socket, 4 otherwise. */
  family(): 4 | 6 {
    return this.words === 4 ? 6 : 4;
  }

  /**
   * How many milliseconds ago the kernel received the datagram being handed to onReceive now (it
   * may have waited in the receive queue meanwhile); NaN outside onReceive or when the kernel gave
   * no receive time. A performance.now() per call: meant for the rare datagram that needs it. The
   * kernel stamps datagrams only at open and from the first call until calls stop (udp-receive.ts):
   * the first of a burst gets NaN, and those queued before it an age too young, never too old.
   */
  receivedAgo(): number {
    return this.rx.receivedAgo();
  }

  /** Whether the queue waits for the socket to become writable. */
  isBlocked(): boolean {
    return this.blocked;
  }

  /**
   * Queues one datagram, bytes[offset, offset + length), to address:port (host-order IPv4; IPv4-mapped
   * on an IPv6 socket), copied: the caller may reuse them. False when it was dropped (queue full,
   * too large, closed): counted, never thrown.
   */
  send(address: number, port: number, bytes: Uint8Array, offset = 0, length = bytes.length - offset): boolean {
    const k = this.reserve(port, bytes, offset, length);
    if (k < 0) return false;
    this.setAddress(k, address);
    this.queued1();
    return true;
  }

  /** Slot k's destination: host-order IPv4 `address`, IPv4-mapped on an IPv6 socket. */
  private setAddress(k: number, address: number): void {
    if (this.words === 1) {
      this.txAddrs[k] = address;
      return;
    }
    const a = this.txAddrOctets;
    const o = k * 16;
    a.fill(0, o, o + 10);
    a[o + 10] = a[o + 11] = 0xff;
    a[o + 12] = address >>> 24;
    a[o + 13] = (address >>> 16) & 0xff;
    a[o + 14] = (address >>> 8) & 0xff;
    a[o + 15] = address & 0xff;
  }

  /**
   * Queues `count` datagrams to address:port (as send()) laid out end to end, each `stride` octets
   * but the last (`last`), which `fill(slab, at)` writes in place into the send slab: no copy. False
   * when they were dropped (no room even after a flush, too large, closed: counted; or `fill`
   * refused: nothing queued).
   */
  sendRun(address: number, port: number, count: number, stride: number, last: number, fill: (slab: Uint8Array, at: number) => boolean): boolean {
    const total = (count - 1) * stride + last;
    if (this.closed || count < 1 || stride > MAX_UDP_PAYLOAD || last > MAX_UDP_PAYLOAD || last < 0 || stride < 0) {
      if (this.closed) this.counters.queueDrops += count;
      else this.counters.sendErrors += count;
      return false;
    }
    if (this.tail + count > this.txOffsets.length || this.used + total > this.txSlab.length) {
      if (!this.blocked) this.flush();
      if (this.tail + count > this.txOffsets.length || this.used + total > this.txSlab.length) {
        this.counters.queueDrops += count;
        return false;
      }
    }
    if (!fill(this.txSlab, this.used)) return false;
    for (let i = 0; i < count; i++) {
      const k = this.tail++;
      this.txOffsets[k] = this.used;
      this.txLengths[k] = i < count - 1 ? stride : last;
      this.txPorts[k] = port;
      this.used += this.txLengths[k] as number;
      this.setAddress(k, address);
    }
    this.queued1();
    return true;
  }

  /** Like send(), to the IPv6 address to6[to6Offset, +16); dropped (a send error) on an IPv4 socket
   *  unless it is IPv4-mapped. */
  send6(to6: Uint8Array, to6Offset: number, port: number, bytes: Uint8Array, offset = 0, length = bytes.length - offset): boolean {
    if (this.words === 1) {
      const v4 = mappedIpv4(to6, to6Offset);
      if (v4 >= 0) return this.send(v4, port, bytes, offset, length);
      this.counters.sendErrors++;
      return false;
    }
    const k = this.reserve(port, bytes, offset, length);
    if (k < 0) return false;
    copyOctets(to6, to6Offset, this.txAddrOctets, k * 16, 16);
    this.queued1();
    return true;
  }

  // Takes a queue slot for a datagram and copies it in (the caller writes the address): its index,
  // or -1 when it was dropped and counted.
  private reserve(port: number, bytes: Uint8Array, offset: number, length: number): number {
    if (this.closed) {
      this.counters.queueDrops++;
      return -1;
    }
    if (length > MAX_UDP_PAYLOAD) {
      this.counters.sendErrors++;
      return -1;
    }
    if (this.tail === this.txOffsets.length || this.used + length > this.txSlab.length) {
      if (!this.blocked) this.flush();
      if (this.tail === this.txOffsets.length || this.used + length > this.txSlab.length) {
        this.counters.queueDrops++;
        return -1;
      }
    }
    const k = this.tail++;
    copyOctets(bytes, offset, this.txSlab, this.used, length);
    this.txOffsets[k] = this.used;
    this.txLengths[k] = length;
    this.txPorts[k] = port;
    this.used += length;
    return k;
  }

  // After one datagram was queued: flush a full batch now, otherwise after the current burst.
  private queued1(): void {
    if (this.blocked) return;
    if (this.tail - this.head >= MAX_BATCH) this.flush();
    else if (!this.scheduled) {
      this.scheduled = true;
      queueMicrotask(this.flushTask);
    }
  }

  /**
   * Hands a lone queued datagram to the kernel now, rather than after the current burst, when the
   * burst is a lone datagram too (the recvmmsg round being handed out held one, or none is): an
   * answer that must not wait for the rest of its turn. A round of many keeps its one flush.
   */
  flushLone(): void {
    if (this.rx.roundSize <= 1 && this.tail - this.head === 1 && !this.blocked && !this.closed) this.flush();
  }

  /** Hands the queue to the kernel now (normally a microtask does it after the current burst). */
  flush(): void {
    if (this.closed) return;
    const counters = this.counters;
    let told = -1;
    while (this.head < this.tail) {
      const r = this.native.sendBatch(this.txSlab, this.txOffsets, this.txLengths, this.txAddrs, this.txPorts, this.head, this.tail, this.gsoStatus);
      if (this.gsoStatus[0] !== 0) this.gsoRefusedWith(this.gsoStatus[0] as number);
      if (r < 0) {
        counters.sendErrors++;
        if (r === -EMSGSIZE) {
          counters.tooBig++;
          // Once per destination and flush (the slots before head stay put until compact()).
          if (told < 0 || !this.sameDestination(told, this.head)) {
            told = this.head;
            this.tellTooBig(this.head);
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
    this.rx.close();
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
    this.txAddrs.copyWithin(0, this.head * this.words, this.tail * this.words);
    this.txPorts.copyWithin(0, this.head, this.tail);
    this.tail -= this.head;
    this.head = 0;
    this.used -= base;
    for (let k = 0; k < this.tail; k++) this.txOffsets[k] = (this.txOffsets[k] as number) - base;
  }

  /** Receives what is waiting, as a readable event would (UnderlaySocket.pollNow). */
  pollNow(): void {
    if (!this.closed) this.rx.receive(this.name);
  }

  private onEvent(status: number, events: number): void {
    if (this.closed) return;
    if (status < 0) {
      this.counters.receiveErrors++;
      this.options.onError?.(udpError(this.name, 'watch', status));
      return;
    }
    if ((events & UV_WRITABLE) !== 0 && this.blocked) this.flush();
    if ((events & UV_READABLE) !== 0) this.rx.receive(this.name);
  }

  private sameDestination(j: number, k: number): boolean {
    if (this.txPorts[j] !== this.txPorts[k]) return false;
    const w = this.words;
    for (let i = 0; i < w; i++) if (this.txAddrs[j * w + i] !== this.txAddrs[k * w + i]) return false;
    return true;
  }

  // Tells onTooBig of queue slot k's destination (an IPv4-mapped one of an IPv6 socket as IPv4).
  private tellTooBig(k: number): void {
    const port = this.txPorts[k] as number;
    const address = this.words === 1 ? (this.txAddrs[k] as number) : mappedIpv4(this.txAddrOctets, k * 16);
    try {
      this.options.onTooBig?.(address, port, this.txAddrOctets, k * 16);
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
    const to = this.words === 1 ? `${formatDottedQuad(this.txAddrs[k] as number)}:${this.txPorts[k] as number}` : `[${formatIpv6(this.txAddrOctets, k * 16)}]:${this.txPorts[k] as number}`;
    const code = errnoName(-errno);
    onError(new UdpSocketError(`failed to send datagram to ${to} from UDP socket ${this.name}: ${code}`, code));
  }
}
