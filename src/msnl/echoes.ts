// Echo requests this endpoint sent and still waits for (msnl(7) ECHO): each has an identifier,
// the address it went to and when; a reply from that address answers it once, and an unanswered
// one is forgotten after the timeout. Pure; time is the endpoint's clock.

interface Pending {
  readonly sentAt: number;
  readonly to: number;
}

export class Echoes {
  private readonly pending = new Map<number, Pending>();
  private next = 1;

  constructor(private readonly timeoutMs: number) {}

  /** Records a request to `to` sent at `now`; returns its identifier (never 0). */
  start(to: number, now: number): number {
    const ident = this.next;
    this.next = (this.next + 1) >>> 0 || 1;
    this.pending.set(ident, { sentAt: now, to: to >>> 0 });
    return ident;
  }

  /** The round trip of the request `ident` answered from `from`, or undefined when none waits for it. */
  answer(ident: number, from: number, now: number): number | undefined {
    const p = this.pending.get(ident);
    if (p === undefined || p.to !== from) return undefined;
    this.pending.delete(ident);
    return now - p.sentAt;
  }

  /** Forgets requests that timed out by `now`. */
  expire(now: number): void {
    for (const [ident, p] of this.pending) if (now - p.sentAt >= this.timeoutMs) this.pending.delete(ident);
  }

  /** When the oldest request times out, or Infinity. */
  nextDeadline(): number {
    for (const p of this.pending.values()) return p.sentAt + this.timeoutMs;
    return Infinity;
  }
}
