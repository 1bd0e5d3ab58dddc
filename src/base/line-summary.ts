// Per-event log lines that summarise themselves in a storm: up to `perSecond` lines in each second
// are logged one by one; past that, each is only counted under its kind ("connections up",
// "connections down: released by peer (reason 0: normal)"), and when the second is over one line
// says how many of each kind there were, e.g.
//   19 950 more in the last 1.0 s, beyond 50 lines a second: 9 950 connections up, 10 000 connections down: ...
// so that 20 000 calls make about 50 lines, not 20 000 (journald drops lines past 10 000 in 30 s
// by default anyway), and a line's text is only built when it is logged. Pure: the clock and the
// timer that ends a second are injected.

export interface LineSummaryOptions {
  /** Writes one line (the logger's info). */
  readonly write: (line: string) => void;
  readonly now: () => number;
  /** Lines logged one by one in each second; 0: every line is logged (no summary). */
  readonly perSecond: number;
  /** Runs `run` after `ms` (setTimeout, unref'd, by default). */
  readonly after?: (ms: number, run: () => void) => void;
}

const WINDOW_MS = 1000;

const defaultAfter = (ms: number, run: () => void): void => void setTimeout(run, ms).unref();

/** Formats a count with a space every three digits (as msnld.8 quotes the summary). */
function count(n: number): string {
  return String(n);
}

export class LineSummary {
  private windowStart = -Infinity;
  private logged = 0;
  private readonly counts = new Map<string, number>();
  private timerSet = false;

  constructor(private readonly options: LineSummaryOptions) {}

  /** Logs `text()` while under the rate, or counts one line of `kind`. */
  line(kind: string, text: () => string): void {
    const { perSecond, now } = this.options;
    if (perSecond <= 0) return this.options.write(text());
    const t = now();
    if (t - this.windowStart >= WINDOW_MS) {
      this.summarise(t);
      this.windowStart = t;
      this.logged = 0;
    }
    if (this.logged < perSecond) {
      this.logged++;
      this.options.write(text());
      return;
    }
    this.counts.set(kind, (this.counts.get(kind) ?? 0) + 1);
    if (!this.timerSet) {
      this.timerSet = true;
      (this.options.after ?? defaultAfter)(Math.max(0, this.windowStart + WINDOW_MS - t), () => {
        this.timerSet = false;
        this.summarise(this.options.now());
      });
    }
  }

  /** Writes the summary of the lines counted so far, if any (also at the end of each second). */
  summarise(at: number = this.options.now()): void {
    if (this.counts.size === 0) return;
    let total = 0;
    const parts: string[] = [];
    for (const [kind, n] of this.counts) {
      total += n;
      parts.push(`${count(n)} ${kind}`);
    }
    this.counts.clear();
    const seconds = Math.max(0, at - this.windowStart) / 1000;
    this.options.write(`${count(total)} more in the last ${seconds.toFixed(1)} s, beyond ${this.options.perSecond} lines a second: ${parts.join(', ')}`);
  }
}
