// Which IP peers a tunnel calls again by itself: those whose connection was lost abnormally (the
// peer died, restarted, or shut down), so a tunnel comes back with no manual step. Exponential
// backoff from 500 ms to 10 s; pure, clock passed in.

export interface RedialEntry {
  readonly peer: number;
  /** When the connection was lost (ms). */
  readonly since: number;
  attempts: number;
  dueAt: number;
  /** A call for this peer is under way (its MMUP_CONNECT ref). */
  ref: number | undefined;
}

const FIRST_DELAY_MS = 500;
const MAX_DELAY_MS = 10_000;

export class RedialSchedule {
  private readonly entries = new Map<number, RedialEntry>();

  add(peer: number, now: number): void {
    if (!this.entries.has(peer)) this.entries.set(peer, { peer, since: now, attempts: 0, dueAt: now + FIRST_DELAY_MS, ref: undefined });
  }

  delete(peer: number): void {
    this.entries.delete(peer);
  }

  /** How many peers are being called again. */
  get size(): number {
    return this.entries.size;
  }

  has(peer: number): boolean {
    return this.entries.has(peer);
  }

  /** True while a call for the peer is under way. */
  calling(peer: number): boolean {
    return this.entries.get(peer)?.ref !== undefined;
  }

  /** Peers due for a call now; each is marked as calling with the ref `makeRef` gives. */
  due(now: number, makeRef: (peer: number) => number): number[] {
    const peers: number[] = [];
    for (const entry of this.entries.values()) {
      if (entry.ref !== undefined || entry.dueAt > now) continue;
      entry.ref = makeRef(entry.peer);
      entry.attempts++;
      peers.push(entry.peer);
    }
    return peers;
  }

  /** The call for `peer` failed: try again after the next backoff step. */
  failed(peer: number, now: number): void {
    const entry = this.entries.get(peer);
    if (entry === undefined) return;
    entry.ref = undefined;
    entry.dueAt = now + Math.min(MAX_DELAY_MS, FIRST_DELAY_MS * 2 ** Math.min(entry.attempts, 10));
  }

  list(): readonly RedialEntry[] {
    return [...this.entries.values()];
  }

  clear(): void {
    this.entries.clear();
  }
}
