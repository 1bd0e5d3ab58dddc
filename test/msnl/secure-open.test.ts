// OpenQueue: the sealed frames of a burst opened by one AEAD call, in place in its slab, each
// exactly what FrameSealer opens alone, handed out in the order added with whether it
// authenticated; a full batch or slab flushes at once; a frame that fits no batch, is too short,
// or comes during a flush is left to the caller.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { type AeadBatch } from '../../src/crypto/aead.js';
import { defaultAead } from '../../src/daemon/aead.js';
import { OPEN_BATCH_BYTES, OPEN_BATCH_ITEMS, OpenQueue } from '../../src/msnl/secure-open.js';
import { FrameSealer } from '../../src/msnl/secure-sealer.js';
import { SEAL_OVERHEAD, SEALED_HEADER_SIZE } from '../../src/msnl/secure-wire.js';
import { TAG_SIZE } from '../../src/crypto/primitives.js';

interface Opened {
  readonly entry: number;
  readonly link: string;
  readonly counter: number;
  readonly inner: Uint8Array | null;
}

interface Harness {
  readonly queue: OpenQueue<number, string>;
  readonly opened: Opened[];
  readonly calls: number[];
  readonly tasks: (() => void)[];
}

function harness(onOpened?: (h: Harness) => void): Harness {
  const aead = defaultAead();
  const counting: AeadBatch = {
    name: aead.name,
    seal: (keys, buf, desc, count) => aead.seal(keys, buf, desc, count),
    open: (keys, buf, desc, count) => {
      h.calls.push(count);
      return aead.open(keys, buf, desc, count);
    },
  };
  const h: Harness = {
    opened: [], calls: [], tasks: [],
    queue: new OpenQueue<number, string>({
      aead: counting,
      opened: (entry, link, counter, buf, offset, length, ok) => {
        h.opened.push({ entry, link, counter, inner: ok ? buf.slice(offset + SEALED_HEADER_SIZE, offset + length - TAG_SIZE) : null });
        onOpened?.(h);
      },
      schedule: (flush) => h.tasks.push(flush),
    }),
  };
  return h;
}

function sealed(key: Uint8Array, counter: number, frame: Uint8Array): Uint8Array {
  const sealer = new FrameSealer(defaultAead());
  const out = sealer.seal(key, 7, counter, frame, 0, frame.length)!;
  const copy = out.slice(0, frame.length + SEAL_OVERHEAD);
  sealer.sealed();
  return copy;
}

test('a burst under interleaved keys, a forgery among it: one AEAD call, one scheduled flush, each frame as it was sealed, in order', () => {
  const h = harness();
  const keys = [new Uint8Array(randomBytes(32)), new Uint8Array(randomBytes(32))];
  const frames = Array.from({ length: 40 }, (_, i) => new Uint8Array(randomBytes(1 + ((i * 173) % 1440))));
  const buf = new Uint8Array(2000);
  for (const [i, frame] of frames.entries()) {
    const datagram = sealed(keys[i % 2]!, 100 + i, frame);
    if (i === 17) datagram[SEALED_HEADER_SIZE]! ^= 1;
    buf.set(datagram, 3);
    assert.ok(h.queue.add(keys[i % 2]!, 100 + i, i, `peer${i % 2}`, buf, 3, datagram.length));
    buf.fill(0xee); // the caller may reuse its buffer at once
  }
  assert.equal(h.tasks.length, 1, 'one flush scheduled for the burst');
  assert.equal(h.opened.length, 0, 'nothing handed out before the flush');
  h.tasks[0]!();
  assert.deepEqual(h.calls, [40]);
  assert.equal(h.queue.pending, 0);
  assert.equal(h.opened.length, 40);
  for (const [i, frame] of frames.entries()) {
    const o = h.opened[i]!;
    assert.deepEqual([o.entry, o.link, o.counter], [i, `peer${i % 2}`, 100 + i]);
    assert.deepEqual(o.inner, i === 17 ? null : frame, `frame ${i}`);
  }
});

test('addInPlace opens frames where they lie, in the caller\'s array, with no copy; another array or a copied frame flushes them first', () => {
  const h = harness();
  const key = new Uint8Array(randomBytes(32));
  const frames = Array.from({ length: 30 }, (_, i) => new Uint8Array(randomBytes(1 + ((i * 211) % 1440))));
  const held = new Uint8Array(64 * 1024);
  const at: number[] = [];
  let used = 0;
  for (const [i, frame] of frames.entries()) {
    const d = sealed(key, i, frame);
    if (i === 9) d[d.length - 1]! ^= 1;
    held.set(d, used);
    at.push(used);
    assert.ok(h.queue.addInPlace(key, i, i, 'p', held, used, d.length));
    used += d.length + (i % 3); // gaps, and the first frame with no room in front of it
  }
  assert.equal(h.queue.pending, 30);
  h.tasks[0]!();
  assert.deepEqual(h.calls, [30], 'one AEAD call, over the caller\'s array');
  assert.deepEqual(h.opened.map((o) => o.inner), frames.map((f, i) => (i === 9 ? null : f)));
  assert.deepEqual(held.subarray(at[3]! + SEALED_HEADER_SIZE, at[3]! + SEALED_HEADER_SIZE + frames[3]!.length), frames[3], 'opened in place');
  // A second array, then a copied frame: each change of array opens what is queued first, in order.
  const other = new Uint8Array(4096);
  const d0 = sealed(key, 100, frames[0]!), d1 = sealed(key, 101, frames[1]!), d2 = sealed(key, 102, frames[2]!);
  held.set(d0, 100);
  other.set(d1, 64);
  assert.ok(h.queue.addInPlace(key, 100, 100, 'p', held, 100, d0.length));
  assert.ok(h.queue.addInPlace(key, 101, 101, 'p', other, 64, d1.length));
  assert.ok(h.queue.add(key, 102, 102, 'p', d2, 0, d2.length));
  assert.ok(h.queue.addInPlace(key, 100, 103, 'p', held, 100, d0.length)); // a replay is the caller's to catch; opened again here
  h.tasks.at(-1)!();
  assert.deepEqual(h.calls, [30, 1, 1, 1, 1]);
  assert.deepEqual(h.opened.slice(30).map((o) => [o.entry, o.inner === null]), [[100, false], [101, false], [102, false], [103, true]], 'in order; the frame opened twice in place no longer authenticates');
  assert.equal(h.queue.addInPlace(key, 1, 1, 'p', held, 0, SEALED_HEADER_SIZE + TAG_SIZE - 1), false, 'too short');
});

test('a wrong counter or key fails that frame only; a full batch or slab opens at once', () => {
  const key = new Uint8Array(randomBytes(32));
  const h = harness();
  const frame = new Uint8Array(100).fill(3);
  for (let i = 0; i < OPEN_BATCH_ITEMS + 3; i++) {
    const d = sealed(key, i, frame);
    assert.ok(h.queue.add(i === 5 ? new Uint8Array(32) : key, i === 6 ? 99 : i, i, 'p', d, 0, d.length));
  }
  assert.deepEqual(h.calls, [OPEN_BATCH_ITEMS]);
  assert.equal(h.queue.pending, 3);
  h.tasks.at(-1)!();
  assert.deepEqual(h.calls, [OPEN_BATCH_ITEMS, 3]);
  assert.deepEqual(h.opened.map((o) => o.entry), Array.from({ length: OPEN_BATCH_ITEMS + 3 }, (_, i) => i), 'in order across the two calls');
  assert.deepEqual(h.opened.flatMap((o, i) => (o.inner === null ? [i] : [])), [5, 6]);

  const big = harness();
  const large = sealed(key, 1, new Uint8Array(60_000));
  const fit = Math.floor(OPEN_BATCH_BYTES / large.length);
  for (let i = 0; i <= fit; i++) assert.ok(big.queue.add(key, 1, i, 'p', large, 0, large.length));
  assert.deepEqual(big.calls, [fit], 'the slab was full');
  assert.equal(big.queue.pending, 1);
});

test('a frame larger than the slab or shorter than header and tag, or one added while a flush hands out, is refused', () => {
  const key = new Uint8Array(32);
  const d = sealed(key, 0, new Uint8Array(10));
  const h = harness((self) => {
    if (self.opened.length === 1) assert.equal(self.queue.add(key, 0, 99, 'nested', d, 0, d.length), false);
  });
  assert.equal(h.queue.add(key, 0, 0, 'p', new Uint8Array(OPEN_BATCH_BYTES + 1), 0, OPEN_BATCH_BYTES + 1), false);
  assert.equal(h.queue.add(key, 0, 0, 'p', d, 0, SEALED_HEADER_SIZE + TAG_SIZE - 1), false);
  assert.equal(h.queue.pending, 0);
  h.queue.add(key, 0, 0, 'p', d, 0, d.length);
  h.queue.add(key, 0, 1, 'p', d, 0, d.length);
  h.queue.flush();
  assert.equal(h.opened.length, 2);
  assert.equal(h.queue.pending, 0);
  h.queue.flush(); // nothing queued: no AEAD call
  assert.deepEqual(h.calls, [2]);
});
