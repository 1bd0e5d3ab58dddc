// DeadlineHeap: the endpoint's timers, one deadline per item (a connection) in a binary min-heap,
// so the next deadline is read in O(1) and setting, moving or removing one costs O(log N): the
// timer loop touches only what is due, never every item. Pure; time is whatever number the caller
// uses (the endpoint's injected clock).

/** Where an item's place in the heap is kept: on the item itself (no map look-up per move), or in a map. */
export interface HeapSlot<T> {
  get(item: T): number | undefined;
  set(item: T, index: number): void;
  delete(item: T): void;
  clear(): void;
}

/** The slot of an item that keeps its own heap index in `heapIndex` (-1: not in the heap). One heap per item. */
export interface HeapIndexed {
  heapIndex: number;
}

export function ownSlot<T extends HeapIndexed>(items: () => Iterable<T>): HeapSlot<T> {
  return {
    get: (item) => (item.heapIndex < 0 ? undefined : item.heapIndex),
    set: (item, index) => void (item.heapIndex = index),
    delete: (item) => void (item.heapIndex = -1),
    clear: () => {
      for (const item of items()) item.heapIndex = -1;
    },
  };
}

export class DeadlineHeap<T> {
  private readonly items: T[] = [];
  private readonly ats: number[] = [];
  private readonly index: HeapSlot<T>;

  /** `slot`: where each item's place is kept (default: a map, for items of any kind). */
  constructor(slot?: (items: () => Iterable<T>) => HeapSlot<T>) {
    this.index = slot === undefined ? new Map<T, number>() : slot(() => this.items);
  }

  get size(): number {
    return this.items.length;
  }

  /** The earliest deadline, or Infinity when there is none. */
  peekAt(): number {
    return this.ats.length > 0 ? (this.ats[0] as number) : Infinity;
  }

  /** The deadline of `item`, or undefined when it has none. */
  at(item: T): number | undefined {
    const i = this.index.get(item);
    return i === undefined ? undefined : this.ats[i];
  }

  /** Sets (adds or moves) the deadline of `item`. */
  set(item: T, at: number): void {
    const i = this.index.get(item);
    if (i === undefined) {
      this.items.push(item);
      this.ats.push(at);
      this.index.set(item, this.items.length - 1);
      this.up(this.items.length - 1);
      return;
    }
    const old = this.ats[i] as number;
    this.ats[i] = at;
    if (at < old) this.up(i);
    else if (at > old) this.down(i);
  }

  /** Removes `item`'s deadline; false when it had none. */
  delete(item: T): boolean {
    const i = this.index.get(item);
    if (i === undefined) return false;
    this.index.delete(item);
    const lastItem = this.items.pop() as T;
    const lastAt = this.ats.pop() as number;
    if (i < this.items.length) {
      this.items[i] = lastItem;
      this.ats[i] = lastAt;
      this.index.set(lastItem, i);
      this.up(i);
      this.down(i);
    }
    return true;
  }

  /** Removes and returns the item with the earliest deadline if it is at or before `now`. */
  popDue(now: number): T | undefined {
    if (this.ats.length === 0 || (this.ats[0] as number) > now) return undefined;
    const item = this.items[0] as T;
    this.delete(item);
    return item;
  }

  clear(): void {
    this.index.clear();
    this.items.length = 0;
    this.ats.length = 0;
  }

  private up(i: number): void {
    const { items, ats, index } = this;
    const item = items[i] as T;
    const at = ats[i] as number;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if ((ats[parent] as number) <= at) break;
      items[i] = items[parent] as T;
      ats[i] = ats[parent] as number;
      index.set(items[i] as T, i);
      i = parent;
    }
    items[i] = item;
    ats[i] = at;
    index.set(item, i);
  }

  private down(i: number): void {
    const { items, ats, index } = this;
    const n = items.length;
    const item = items[i] as T;
    const at = ats[i] as number;
    for (;;) {
      const left = 2 * i + 1;
      if (left >= n) break;
      const right = left + 1;
      const child = right < n && (ats[right] as number) < (ats[left] as number) ? right : left;
      if ((ats[child] as number) >= at) break;
      items[i] = items[child] as T;
      ats[i] = ats[child] as number;
      index.set(items[i] as T, i);
      i = child;
    }
    items[i] = item;
    ats[i] = at;
    index.set(item, i);
  }
}
