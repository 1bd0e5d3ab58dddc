// SealQueue: the sealed frames of a burst sealed by one AEAD call, each datagram exactly what
// FrameSealer makes of it alone, sent in the order added; a full batch or slab flushes at once,
// a frame that fits no batch or comes during a flush is left to the caller.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { type AeadBatch } from '../../src/crypto/aead.js';
import { defaultAead } from '../../src/daemon/aead.js';
import { SEAL_BATCH_BYTES, SEAL_BATCH_ITEMS, SealQueue } from '../../src/msnl/secure-batch.js';
import { FrameSealer } from '../../src/msnl/secure-sealer.js';
import { SEAL_OVERHEAD } from '../../src/msnl/secure-wire.js';

interface Harness {
  readonly queue: SealQueue<string>;
  readonly sent: { link: string; bytes: Uint8Array }[];
  readonly calls: number[];
  readonly tasks: (() => void)[];
  refused: number;
}

function harness(aead: AeadBatch = defaultAead(), onSend?: (h: Harness) => void): Harness {
  const counting: AeadBatch = {
    name: aead.name,
    seal: (keys, buf, desc, count) => {
      h.calls.push(count);
      return aead.seal(keys, buf, desc, count);
    },
    open: (keys, buf, desc, count) => aead.open(keys, buf, desc, count),
  };
  const h: Harness = {
    sent: [], calls: [], tasks: [], refused: 0,
    queue: new SealQueue<string>({
      aead: counting,
      send: (link, buf, offset, length) => {
        h.sent.push({ link, bytes: buf.slice(offset, offset + length) });
        onSend?.(h);
      },
      refused: () => h.refused++,
      schedule: (flush) => h.tasks.push(flush),
    }),
  };
  return h;
}

/** What FrameSealer makes of one frame on its own. */
function alone(key: Uint8Array, receiver: number, counter: number, frame: Uint8Array): Uint8Array {
  const sealer = new FrameSealer(defaultAead());
  const out = sealer.seal(key, receiver, counter, frame, 0, frame.length)!;
  const copy = out.slice(0, frame.length + SEAL_OVERHEAD);
  sealer.sealed();
  return copy;
}

test('a burst under three interleaved keys: one AEAD call, one scheduled flush, the datagrams FrameSealer makes, in order', () => {
  const h = harness();
  const keys = [new Uint8Array(randomBytes(32)), new Uint8Array(randomBytes(32)), new Uint8Array(randomBytes(32))];
  const frames = Array.from({ length: 40 }, (_, i) => new Uint8Array(randomBytes(1 + ((i * 173) % 1440))));
  const buf = new Uint8Array(2000);
  for (const [i, frame] of frames.entries()) {
    buf.set(frame, 7);
    assert.ok(h.queue.add(keys[i % 3 === 2 ? 0 : i % 3]!, 0x1000 + (i % 3), 5000 + i, `peer${i % 3}`, buf, 7, frame.length));
    buf.fill(0xee); // the caller may reuse its buffer at once
  }
  assert.equal(h.tasks.length, 1, 'one flush scheduled for the burst');
  assert.equal(h.sent.length, 0, 'nothing leaves before the flush');
  assert.equal(h.queue.pending, 40);
  h.tasks[0]!();
  assert.deepEqual(h.calls, [40]);
  assert.equal(h.queue.pending, 0);
  assert.equal(h.sent.length, 40);
  for (const [i, frame] of frames.entries()) {
    assert.equal(h.sent[i]!.link, `peer${i % 3}`);
    assert.deepEqual(h.sent[i]!.bytes, alone(keys[i % 3 === 2 ? 0 : i % 3]!, 0x1000 + (i % 3), 5000 + i, frame), `datagram ${i}`);
  }
  // The next burst schedules again.
  h.queue.add(keys[1]!, 1, 1, 'peer', buf, 0, 10);
  assert.equal(h.tasks.length, 2);
});

test('a full batch or a full slab is sealed and sent at once; the rest waits for the scheduled flush', () => {
  const h = harness();
  const key = new Uint8Array(randomBytes(32));
  const frame = new Uint8Array(100);
  for (let i = 0; i < SEAL_BATCH_ITEMS + 3; i++) assert.ok(h.queue.add(key, 9, i, 'p', frame, 0, frame.length));
  assert.deepEqual(h.calls, [SEAL_BATCH_ITEMS]);
  assert.equal(h.sent.length, SEAL_BATCH_ITEMS);
  assert.equal(h.queue.pending, 3);
  h.tasks.at(-1)!();
  assert.deepEqual(h.calls, [SEAL_BATCH_ITEMS, 3]);
  const counters = h.sent.map((d) => new DataView(d.bytes.buffer).getUint32(12));
  assert.deepEqual(counters, Array.from({ length: SEAL_BATCH_ITEMS + 3 }, (_, i) => i), 'in order across the two calls');

  const big = harness();
  const large = new Uint8Array(60_000);
  const fit = Math.floor(SEAL_BATCH_BYTES / (large.length + SEAL_OVERHEAD));
  for (let i = 0; i <= fit; i++) assert.ok(big.queue.add(key, 9, i, 'p', large, 0, large.length));
  assert.deepEqual(big.calls, [fit], 'the slab was full');
  assert.equal(big.queue.pending, 1);
});

test('a frame larger than the slab, or one added while a flush sends, is refused for the caller to seal alone', () => {
  const key = new Uint8Array(32);
  const h = harness(defaultAead(), (self) => {
    if (self.sent.length === 1) assert.equal(self.queue.add(key, 1, 99, 'nested', new Uint8Array(10), 0, 10), false);
  });
  assert.equal(h.queue.add(key, 1, 0, 'p', new Uint8Array(SEAL_BATCH_BYTES), 0, SEAL_BATCH_BYTES), false);
  assert.equal(h.queue.pending, 0);
  h.queue.add(key, 1, 0, 'p', new Uint8Array(10), 0, 10);
  h.queue.add(key, 1, 1, 'p', new Uint8Array(10), 0, 10);
  h.queue.flush();
  assert.equal(h.sent.length, 2);
  assert.equal(h.queue.flushing, false);
  assert.equal(h.queue.pending, 0);
  h.queue.flush(); // nothing queued: no AEAD call
  assert.deepEqual(h.calls, [2]);
});

test('an item the AEAD refuses is counted, not sent; the others go', () => {
  const failing: AeadBatch = {
    name: 'half',
    seal: (keys, buf, desc, count) => {
      const n = defaultAead().seal(keys, buf, desc, count);
      desc[8] = 0; // item 0 refused
      return n;
    },
    open: () => 0,
  };
  const h = harness(failing);
  const key = new Uint8Array(32);
  for (let i = 0; i < 3; i++) h.queue.add(key, 1, i, `p${i}`, new Uint8Array(20), 0, 20);
  h.queue.flush();
  assert.equal(h.refused, 1);
  assert.deepEqual(h.sent.map((d) => d.link), ['p1', 'p2']);
});
