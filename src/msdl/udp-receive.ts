// The receive side of BatchUdpSocket (udp-batch.ts): recvmmsg rounds into a preallocated slab of
// slots, each datagram handed on as (slab, offset, length), valid only during the onReceive call;
// UDP GRO slots split back into their datagrams; the kernel's receive times. Nothing allocates per
// datagram; a throwing handler is counted and reported, never propagated.
//
// Receive times (SO_TIMESTAMPNS) are on only while someone asks for them, and at open (a daemon
// that just started is called by every peer it had) until the first idle period ends. The first
// receivedAgo() of a quiet socket turns them on after its round (it answers NaN: that datagram came
// unstamped, as did the rest of its round); they go off again once nobody asked for a whole idle
// period. Only connect requests ask (msnl(7) Call set-up's two MAY rules), so a data path between
// calls pays no control message per datagram and no clock reads per round. Datagrams queued when
// the stamps went on, or arriving before the kernel's global stamping switch has flipped (deferred
// work, a moment later), are stamped at their read: their age is too young, never too old.
import { NO_AGE, type NativeUdpSocket } from './udp-addon.js';
import { udpError, type BatchUdpCounters } from './udp-batch-counters.js';
import { MAX_BATCH, type BatchUdpOptions } from './udp-batch-options.js';
import { mappedIpv4 } from '../abi/inet6.js';

export class BatchReceiver {
  // Slots of slotSize octets, metadata per slot.
  private readonly rxSlab: Uint8Array;
  private readonly rxSizes: Int32Array;
  private readonly rxAddrs: Uint32Array;
  private readonly rxAddrOctets: Uint8Array;
  private readonly rxPorts: Uint16Array;
  private readonly rxSegs: Uint16Array;
  /** Microseconds each datagram of the round waited in the kernel before the read (NO_AGE: unknown),
   *  while the kernel stamps them; undefined when receive times are off for good. */
  private rxAges: Uint32Array | undefined;
  /** Whether the kernel stamps datagrams now, and whether receivedAgo() was asked since the last
   *  idle check. */
  private stamping = false;
  private asked = false;
  /** receivedAgo() was asked while the stamps were off: they go on after the round. */
  private wanted = false;
  private idleTimer: ReturnType<typeof setTimeout> | undefined;
  private readonly idleMs: number;
  private readonly idleCheck = (): void => this.checkIdle();
  /** performance.now() at the read of the round being handed out, and the age of the datagram
   *  being handed out now (NO_AGE outside onReceive). */
  private rxReadAt = 0;
  private rxAge = NO_AGE;
  private readonly slotSize: number;
  private readonly rounds: number;
  /** Datagrams the recvmmsg round being handed out holds (0 outside one). */
  roundSize = 0;

  constructor(
    private readonly native: NativeUdpSocket,
    private readonly options: BatchUdpOptions,
    private readonly counters: BatchUdpCounters,
    /** Address words per datagram: 1 (IPv4) or 4 (IPv6). */
    private readonly words: number,
    private readonly isClosed: () => boolean,
  ) {
    const batch = Math.min(Math.max(1, options.receiveBatch ?? 64), MAX_BATCH);
    this.slotSize = Math.max(1, options.slotSize ?? 65536);
    this.rounds = Math.max(1, options.receiveRounds ?? 8);
    this.rxSlab = new Uint8Array(batch * this.slotSize);
    this.rxSizes = new Int32Array(batch);
    this.rxAddrs = new Uint32Array(batch * words);
    this.rxAddrOctets = new Uint8Array(this.rxAddrs.buffer);
    this.rxPorts = new Uint16Array(batch);
    this.rxSegs = new Uint16Array(batch);
    if ((options.coalescing ?? true) && this.slotSize >= 65536) native.setCoalescing(true);
    const wanted = (options.receiveTimes ?? true) && native.setReceiveTimes !== undefined;
    this.rxAges = wanted ? new Uint32Array(batch) : undefined;
    this.idleMs = Math.max(1, options.receiveTimesIdleMs ?? 1000);
    this.startStamping();
  }

  /** See BatchUdpSocket.receivedAgo. Turns the kernel's receive times on when they are off, at the
   *  end of the round: after what the datagram's handler sent at once (a call's confirm). */
  receivedAgo(): number {
    if (!this.stamping) {
      this.wanted = true;
      return NaN;
    }
    this.asked = true;
    const age = this.rxAge;
    return age === NO_AGE ? NaN : age / 1000 + (performance.now() - this.rxReadAt);
  }

  /** Stops the idle check: the socket closes. */
  close(): void {
    this.stopStamping(false);
  }

  private startStamping(): void {
    this.wanted = false;
    if (this.rxAges === undefined || this.isClosed()) return;
    if (this.native.setReceiveTimes?.(true) !== true) {
      // The kernel refused: receive times stay unknown, and are not asked for again.
      this.rxAges = undefined;
      return;
    }
    this.stamping = true;
    this.asked = true;
    this.armIdleCheck();
  }

  private armIdleCheck(): void {
    this.idleTimer = setTimeout(this.idleCheck, this.idleMs);
    this.idleTimer.unref();
  }

  // Every idleMs while stamping: off when nobody asked since the last check.
  private checkIdle(): void {
    this.idleTimer = undefined;
    if (this.asked && !this.isClosed()) {
      this.asked = false;
      this.armIdleCheck();
    } else {
      this.stopStamping(!this.isClosed());
    }
  }

  private stopStamping(tellKernel: boolean): void {
    if (this.idleTimer !== undefined) clearTimeout(this.idleTimer);
    this.idleTimer = undefined;
    if (this.stamping && tellKernel) this.native.setReceiveTimes?.(false);
    this.stamping = false;
  }

  /** Up to `rounds` recvmmsg rounds, each handed to onReceive datagram by datagram; `name` names
   *  the socket in errors. */
  receive(name: string): void {
    const { rxSlab, rxSizes, rxAddrs, rxPorts, rxSegs, slotSize, counters, words } = this;
    const batch = rxSizes.length;
    for (let round = 0; round < this.rounds && !this.isClosed(); round++) {
      const rxAges = this.stamping ? this.rxAges : undefined;
      const n = this.native.recvBatch(rxSlab, slotSize, rxSizes, rxAddrs, rxPorts, rxSegs, rxAges);
      if (rxAges !== undefined) this.rxReadAt = performance.now();
      if (n < 0) {
        counters.receiveErrors++;
        this.options.onError?.(udpError(name, 'receive on', n));
        return;
      }
      if (n === 0) return;
      counters.receiveBatches++;
      this.roundSize = n;
      for (let i = 0; i < n && !this.isClosed(); i++) {
        const size = rxSizes[i] as number;
        if (size < 0) {
          counters.truncated++;
          continue;
        }
        const base = i * slotSize;
        const seg = rxSegs[i] as number;
        const from = words === 1 ? (rxAddrs[i] as number) : mappedIpv4(this.rxAddrOctets, i * 16);
        if (rxAges !== undefined) this.rxAge = rxAges[i] as number;
        if (seg === 0) {
          this.deliver(base, size, from, rxPorts[i] as number, i * 16);
          continue;
        }
        // A coalesced run (UDP GRO): datagrams of `seg` octets, the last one possibly shorter.
        counters.coalescedRuns++;
        if (size > seg) this.roundSize = n + 1; // more than one datagram in this slot
        for (let off = 0; off < size && !this.isClosed(); off += seg) this.deliver(base + off, Math.min(seg, size - off), from, rxPorts[i] as number, i * 16);
      }
      this.roundSize = 0;
      this.rxAge = NO_AGE;
      if (this.options.onRoundEnd !== undefined) this.roundEnd(this.options.onRoundEnd);
      if (this.wanted) this.startStamping();
      if (n < batch) return;
    }
  }

  private roundEnd(hook: () => void): void {
    try {
      hook();
    } catch (error) {
      this.counters.handlerErrors++;
      this.options.onError?.(error instanceof Error ? error : new Error(String(error)));
    }
  }

  private deliver(offset: number, size: number, address: number, port: number, from6Offset: number): void {
    this.counters.datagramsReceived++;
    this.counters.bytesReceived += size;
    try {
      this.options.onReceive(this.rxSlab, offset, size, address, port, this.rxAddrOctets, from6Offset);
    } catch (error) {
      this.counters.handlerErrors++;
      this.options.onError?.(error instanceof Error ? error : new Error(String(error)));
    }
  }
}
