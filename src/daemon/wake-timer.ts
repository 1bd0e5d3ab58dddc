// WakeTimer: one setTimeout armed at the earliest time something asked for (the endpoint's next
// deadline), instead of a fixed-rate interval: an idle msnld sleeps until a probe is due. Runs are
// at least `minGapMs` apart, so a busy endpoint batches what falls due close together, and at most
// `maxSleepMs` apart, so housekeeping with no deadline of its own (stale handshake state) still runs.
export class WakeTimer {
  private timer: NodeJS.Timeout | undefined;
  private armedAt = Infinity;
  private lastRun = -Infinity;
  private running = false;
  /** How many times it ran (for tests and the idle figure). */
  runs = 0;

  constructor(
    private readonly run: () => void,
    private readonly now: () => number,
    private readonly minGapMs: number,
    private readonly maxSleepMs = 5000,
  ) {}

  start(): void {
    this.running = true;
    const at = this.armedAt;
    this.armedAt = Infinity;
    if (at !== Infinity) this.arm(at);
  }

  /** Asks for a run at `at` (ms on the injected clock) at the latest; later asks than the armed one change nothing. */
  arm(at: number): void {
    if (at >= this.armedAt) return;
    this.armedAt = at;
    if (!this.running) return;
    if (this.timer !== undefined) clearTimeout(this.timer);
    const now = this.now();
    const delay = Math.max(0, at - now, this.lastRun + this.minGapMs - now);
    this.timer = setTimeout(this.fire, Math.ceil(delay));
  }

  stop(): void {
    this.running = false;
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = undefined;
  }

  private readonly fire = (): void => {
    this.timer = undefined;
    this.armedAt = Infinity;
    this.lastRun = this.now();
    this.runs++;
    try {
      this.run();
    } finally {
      if (this.timer === undefined && this.running) this.arm(this.lastRun + this.maxSleepMs);
    }
  };
}
