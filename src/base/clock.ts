// The clock the pure core takes by injection, so tests drive time by hand.

export interface Clock {
  /** Milliseconds, monotonic. */
  now(): number;
}
