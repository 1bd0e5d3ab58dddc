// Walks a large, live collection in key order without copying or sorting it. Pure.
//
// Each batch scans the collection once and keeps only the `batch` smallest keys above the last one
// yielded, so memory is O(batch) whatever the collection's size, and a reply streamed from it
// holds no array of all its rows. The collection may change between batches (the consumer may
// pause for as long as it likes): keys are yielded strictly ascending, never twice; a key added
// above the batch being yielded is seen, one removed before its batch is not. Cost: one scan per
// batch, so O(N^2 / batch) visits; a batch of 8192 walks 100 000 keys in 13 scans.

/** Calls `visit` with every key of the collection (keys distinct, finite). */
export type KeyScan = (visit: (key: number) => void) => void;

/** The keys of `scan` in ascending order, `batch` at a time (see above). */
export function* ascendingKeys(scan: KeyScan, batch = 8192): Generator<number, void, undefined> {
  const size = Math.max(1, Math.floor(batch));
  // Two batches of room: when full, the smallest half is kept (a native numeric sort).
  const kept = new Float64Array(2 * size);
  let cursor = -Infinity;
  for (;;) {
    let count = 0;
    // Keys at or above the bound cannot be among the `size` smallest: they are not kept.
    let bound = Infinity;
    const after = cursor;
    scan((key) => {
      if (key <= after || key >= bound) return;
      kept[count++] = key;
      if (count < kept.length) return;
      kept.sort();
      count = size;
      bound = kept[size - 1]!;
    });
    if (count === 0) return;
    kept.subarray(0, count).sort();
    const yielded = Math.min(count, size);
    for (let i = 0; i < yielded; i++) yield kept[i]!;
    if (yielded < size) return;
    cursor = kept[yielded - 1]!;
  }
}
