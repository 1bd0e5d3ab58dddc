// Housekeeping: the daemon's periodic work on as few wake-ups as it needs (issues 20/21: an idle
// msnld's floor is its timer wake-ups). One turn a second runs the slow work (devices, the health
// watch, the store's safety poll, the tunnels' timers); a quarter-second turn runs only while
// `fastWanted()` says so (a tunnel is calling lost peers again, whose backoff starts at 500 ms);
// the store is also watched (inotify on its directory), so another process's commit is applied
// within `debounceMs`, not at the next poll.
import { watch, type FSWatcher } from 'node:fs';
import path from 'node:path';

export interface HousekeepingTurns {
  /** The work of each one-second turn. */
  readonly second: () => void;
  /** The work of each fast turn, while fastWanted(). */
  readonly fast: () => void;
  readonly fastWanted: () => boolean;
  /** Looks at the store for changes (cheap when there are none). */
  readonly pollStore: () => void;
  /** The database file to watch; undefined or ':memory:': polled only. */
  readonly storePath?: string;
  /** A faster store poll than once a second (tests); undefined: the watch and the one-second turn. */
  readonly pollMs?: number;
  readonly onWatchError?: (error: Error) => void;
}

export const SLOW_TURN_MS = 1000;
export const FAST_TURN_MS = 250;

export class Housekeeping {
  private slow: NodeJS.Timeout | undefined;
  private fastTimer: NodeJS.Timeout | undefined;
  private poll: NodeJS.Timeout | undefined;
  private watcher: FSWatcher | undefined;
  private pending: NodeJS.Timeout | undefined;
  /** Wake-ups so far (tests, the idle figure). */
  wakeups = 0;

  constructor(private readonly turns: HousekeepingTurns, private readonly debounceMs = 20) {}

  start(): void {
    this.slow = setInterval(() => {
      this.wakeups++;
      this.turns.second();
      this.turns.pollStore();
      this.fastFollows();
    }, SLOW_TURN_MS);
    if (this.turns.pollMs !== undefined) this.poll = setInterval(() => this.turns.pollStore(), this.turns.pollMs);
    const file = this.turns.storePath;
    if (file !== undefined && file !== ':memory:') {
      const base = path.basename(file);
      try {
        this.watcher = watch(path.dirname(file), { persistent: false }, (_event, name) => {
          if (name !== null && !String(name).startsWith(base)) return;
          this.storeTouched();
        });
        this.watcher.on('error', (error) => {
          this.turns.onWatchError?.(error);
          this.watcher?.close();
          this.watcher = undefined;
        });
      } catch (error) {
        this.turns.onWatchError?.(error as Error);
      }
    }
  }

  /** Something may want fast turns now (a tunnel lost a peer): they start at once if so. */
  fastFollows(): void {
    if (this.slow === undefined) return;
    if (this.turns.fastWanted()) {
      this.fastTimer ??= setInterval(() => {
        this.wakeups++;
        this.turns.fast();
        if (!this.turns.fastWanted()) this.stopFast();
      }, FAST_TURN_MS);
    } else this.stopFast();
  }

  stop(): void {
    for (const t of [this.slow, this.poll]) if (t !== undefined) clearInterval(t);
    this.stopFast();
    if (this.pending !== undefined) clearTimeout(this.pending);
    this.watcher?.close();
    this.slow = this.poll = this.pending = this.watcher = undefined;
  }

  private stopFast(): void {
    if (this.fastTimer !== undefined) clearInterval(this.fastTimer);
    this.fastTimer = undefined;
  }

  /** The database or its WAL changed: one poll shortly after (a commit touches several files). */
  private storeTouched(): void {
    if (this.pending !== undefined || this.slow === undefined) return;
    this.pending = setTimeout(() => {
      this.pending = undefined;
      this.wakeups++;
      this.turns.pollStore();
    }, this.debounceMs);
  }
}
