// Packets waiting for a call to be set up, per IP peer, bounded: past the bound, pushes fail and
// the caller counts a drop. Packets are copied in (the read buffers are reused at once); this is the
// call set-up path, not the steady-state path, so a copy per queued packet is acceptable.

export type PendingVisitor = (buf: Buffer, offset: number, length: number) => void;

export class PendingQueues {
  private readonly queues = new Map<number, Buffer[]>();

  /** @param perPeer the most packets kept for one peer */
  constructor(
    private readonly perPeer: number,
    /** Octets kept free in front of each copy, so the data header can be written in place. */
    private readonly headroom = 0,
  ) {}

  has(peer: number): boolean {
    return this.queues.has(peer);
  }

  /** Queues a copy of the packet; creates the peer's queue. False when the queue is full. */
  push(peer: number, buf: Uint8Array, offset: number, length: number): boolean {
    let queue = this.queues.get(peer);
    if (queue === undefined) {
      queue = [];
      this.queues.set(peer, queue);
    }
    if (queue.length >= this.perPeer) return false;
    const copy = Buffer.allocUnsafe(this.headroom + length);
    copy.set(buf.subarray(offset, offset + length), this.headroom);
    queue.push(copy);
    return true;
  }

  /** Removes the peer's queue and hands each packet, oldest first, to `visit`. */
  drain(peer: number, visit: PendingVisitor): number {
    const queue = this.queues.get(peer);
    if (queue === undefined) return 0;
    this.queues.delete(peer);
    for (const packet of queue) visit(packet, this.headroom, packet.length - this.headroom);
    return queue.length;
  }

  peers(): number[] {
    return [...this.queues.keys()];
  }

  get size(): number {
    return this.queues.size;
  }
}
