import { test } from 'node:test';
import assert from 'node:assert/strict';
import { DATA_HEADER_SIZE } from '../../src/msnl/constants.js';
import { Reassembler, segmentCount, segmentPacket } from '../../src/msnl/sar.js';
import { decodeDataHeader, newDataHeader } from '../../src/msnl/wire.js';

class FakeClock {
  t = 1000;
  now(): number {
    return this.t;
  }
}

function packetOf(size: number, salt: number): Uint8Array {
  const p = new Uint8Array(size);
  for (let i = 0; i < size; i++) p[i] = (i * 31 + salt) & 0xff;
  return p;
}

function feed(r: Reassembler, key: number, frame: Uint8Array): Uint8Array | null {
  const header = newDataHeader();
  assert.equal(decodeDataHeader(frame, header), null);
  return r.accept(key, header, frame.subarray(DATA_HEADER_SIZE));
}

test('every sampled size 1..65535 round-trips over 1472-octet datagrams, frames in reverse order', () => {
  const clock = new FakeClock();
  const r = new Reassembler(clock);
  const sizes: number[] = [1, 2, 1455, 1456, 1457, 2912, 2913, 65534, 65535];
  for (let s = 1; s <= 65535; s += 97) sizes.push(s);
  let seq = 0;
  for (const size of sizes) {
    const packet = packetOf(size, size);
    const frames = segmentPacket(packet, 7, ++seq);
    assert.equal(frames.length, segmentCount(size));
    assert.equal(frames.length, Math.ceil(size / 1456));
    for (const f of frames) assert.ok(f.length <= 1472, `frame of ${f.length} for size ${size}`);
    let out: Uint8Array | null = null;
    for (let i = frames.length - 1; i >= 0; i--) {
      const got = feed(r, 7, frames[i]!);
      if (i > 0) assert.equal(got, null);
      else out = got;
    }
    assert.ok(out !== null, `size ${size} completed`);
    assert.equal(Buffer.compare(Buffer.from(out), Buffer.from(packet)), 0, `size ${size} content`);
  }
  assert.equal(r.bytesHeld, 0);
  assert.equal(r.pending, 0);
});

test('a lost segment frees its buffers after the timeout, counted as a timeout', () => {
  const clock = new FakeClock();
  const r = new Reassembler(clock, { timeoutMs: 3000, maxBytesPerConnection: 1 << 20, maxBytesTotal: 1 << 22 });
  const frames = segmentPacket(packetOf(65535, 1), 9, 1);
  for (let i = 0; i < frames.length; i++) if (i !== 20) assert.equal(feed(r, 9, frames[i]!), null);
  assert.equal(r.bytesHeld, 65535);
  assert.equal(r.nextDeadline(), 4000);
  clock.t = 3999;
  assert.equal(r.expire(), 0);
  assert.equal(r.bytesHeld, 65535);
  clock.t = 4000;
  assert.equal(r.expire(), 1);
  assert.equal(r.bytesHeld, 0);
  assert.equal(r.counters.timedOut, 1);
  assert.equal(r.nextDeadline(), Infinity);
  // The late segment starts a new partial that times out too: nothing leaks.
  assert.equal(feed(r, 9, frames[20]!), null);
  clock.t += 3000;
  r.expire();
  assert.equal(r.bytesHeld, 0);
});

test('duplicates and late duplicates are counted, overlaps and inconsistent totals drop the packet', () => {
  const clock = new FakeClock();
  const r = new Reassembler(clock);
  const frames = segmentPacket(packetOf(4000, 2), 3, 5);
  assert.equal(frames.length, 3);
  assert.equal(feed(r, 3, frames[1]!), null);
  assert.equal(feed(r, 3, frames[1]!), null);
  assert.equal(r.counters.duplicates, 1);
  assert.equal(feed(r, 3, frames[0]!), null);
  assert.ok(feed(r, 3, frames[2]!) !== null);
  assert.equal(feed(r, 3, frames[0]!), null, 'a late duplicate of a completed packet');
  assert.equal(r.counters.duplicates, 2);
  assert.equal(r.bytesHeld, 0);

  // Same packet cut with a different segment size overlaps: the packet is dropped.
  const a = segmentPacket(packetOf(4000, 3), 3, 6);
  const b = segmentPacket(packetOf(4000, 3), 3, 6, 1000);
  assert.equal(feed(r, 3, a[0]!), null);
  assert.equal(feed(r, 3, b[1]!), null);
  assert.equal(r.counters.overlaps, 1);
  assert.equal(r.bytesHeld, 0);

  // A segment claiming another total for the same packet.
  const c = segmentPacket(packetOf(4000, 4), 3, 7);
  const d = segmentPacket(packetOf(5000, 4), 3, 7);
  assert.equal(feed(r, 3, c[0]!), null);
  assert.equal(feed(r, 3, d[1]!), null);
  assert.equal(r.counters.badFields, 1);
  assert.equal(r.bytesHeld, 0);
});

test('memory bounds: per connection the oldest is evicted, the total is never exceeded', () => {
  const clock = new FakeClock();
  const r = new Reassembler(clock, { timeoutMs: 3000, maxBytesPerConnection: 20000, maxBytesTotal: 30000 });
  for (let seq = 1; seq <= 5; seq++) feed(r, 1, segmentPacket(packetOf(9000, seq), 1, seq)[0]!);
  assert.equal(r.bytesHeld, 18000);
  assert.equal(r.counters.evicted, 3);
  for (let seq = 1; seq <= 3; seq++) feed(r, 2, segmentPacket(packetOf(9000, seq), 2, seq)[0]!);
  assert.ok(r.bytesHeld <= 30000);
  assert.equal(feed(r, 4, segmentPacket(packetOf(40000, 1), 4, 1)[0]!), null);
  assert.equal(r.counters.overLimit, 1);
  r.dropConnection(1);
  r.dropConnection(2);
  assert.equal(r.bytesHeld, 0);
});

test('segmenting rejects sizes out of range and copies the packet exactly once into frames', () => {
  assert.deepEqual(segmentPacket(new Uint8Array(0), 1, 1), []);
  assert.deepEqual(segmentPacket(new Uint8Array(65536), 1, 1), []);
  const frames = segmentPacket(packetOf(3000, 5), 1, 1);
  assert.equal(frames[0]!.buffer, frames[2]!.buffer, 'one backing buffer');
  assert.deepEqual(frames.map((f) => f.length), [1472, 1472, 3000 - 2 * 1456 + DATA_HEADER_SIZE]);
});

// The range list's reference semantics (sorted, disjoint; an identical range is a duplicate, any
// other overlap drops the packet), against which the in-order fast path of insertRange is checked.
function modelInsert(starts: number[], ends: number[], start: number, end: number): 'ok' | 'duplicate' | 'overlap' {
  let i = 0;
  while (i < starts.length && starts[i]! < start) i++;
  if (i < starts.length && starts[i] === start && ends[i] === end) return 'duplicate';
  if (i > 0 && ends[i - 1]! > start) return 'overlap';
  if (i < starts.length && starts[i]! < end) return 'overlap';
  starts.splice(i, 0, start);
  ends.splice(i, 0, end);
  return 'ok';
}

test('in order, out of order, duplicated and overlapping segments: the same verdicts as the sorted-scan reference (seeded random, 3 000 packets)', () => {
  let seed = 0x9e3779b9;
  const rand = (n: number): number => {
    seed = (Math.imul(seed ^ (seed >>> 15), 0x2c1b3c6d) + 0x6d2b79f5) >>> 0;
    return seed % n;
  };
  const clock = new FakeClock();
  const r = new Reassembler(clock);
  const header = newDataHeader();
  let completed = 0, dropped = 0;
  for (let seq = 1; seq <= 3_000; seq++) {
    const total = 100 + rand(6_000);
    const chunk = 50 + rand(1_500);
    const packet = packetOf(total, seq);
    // Mostly in order; sometimes swapped neighbours, a repeated segment, or a misaligned one.
    const pieces: [number, number][] = [];
    for (let at = 0; at < total; at += chunk) pieces.push([at, Math.min(total, at + chunk)]);
    for (let k = 0; k + 1 < pieces.length; k++) if (rand(8) === 0) [pieces[k], pieces[k + 1]] = [pieces[k + 1]!, pieces[k]!];
    if (rand(4) === 0) pieces.splice(rand(pieces.length), 0, pieces[rand(pieces.length)]!);
    if (rand(6) === 0) {
      const s = rand(total - 1);
      pieces.splice(rand(pieces.length), 0, [s, s + 1 + rand(Math.min(chunk, total - s))]);
    }
    const starts: number[] = [], ends: number[] = [];
    let received = 0, outcome: 'open' | 'done' | 'dropped' = 'open';
    for (const [s, e] of pieces) {
      if (outcome !== 'open') break;
      const before = { ...r.counters };
      header.packetSeq = seq;
      header.totalLength = total;
      header.offset = s;
      header.length = e - s;
      const got = r.accept(5, header, packet, s, e - s);
      if (s === 0 && e === total) {
        // A whole packet in one segment passes as it is, whatever else is held.
        assert.deepEqual(got, packet);
        outcome = 'done';
        completed++;
        break;
      }
      const want = modelInsert(starts, ends, s, e);
      if (want === 'overlap') {
        assert.equal(r.counters.overlaps, before.overlaps + 1, `packet ${seq}: [${s}, ${e}) overlaps`);
        assert.equal(got, null);
        outcome = 'dropped';
        dropped++;
      } else if (want === 'duplicate') {
        assert.equal(r.counters.duplicates, before.duplicates + 1, `packet ${seq}: [${s}, ${e}) is a duplicate`);
        assert.equal(got, null);
      } else {
        received += e - s;
        if (received === total) {
          assert.deepEqual(got, packet, `packet ${seq} reassembled`);
          r.recycle();
          outcome = 'done';
          completed++;
        } else assert.equal(got, null);
      }
    }
  }
  assert.ok(completed > 1_000 && dropped > 50, `both outcomes exercised: ${completed} completed, ${dropped} dropped`);
});

test('deferred copies (deferCopies, as over msnld\'s held receive slab): the same packets as copying each segment, with bursts that split packets, two connections interleaved, duplicates, overlaps and a slab overwritten after every burst (seeded random)', () => {
  let seed = 0x1234567;
  const rand = (n: number): number => {
    seed = (Math.imul(seed ^ (seed >>> 15), 0x2c1b3c6d) + 0x6d2b79f5) >>> 0;
    return seed % n;
  };
  let calls = 0, copies = 0;
  const copyRuns = (src: Uint8Array, dst: Uint8Array, runs: Int32Array, count: number): number => {
    calls++;
    for (let i = 0; i < count; i++) {
      dst.set(src.subarray(runs[3 * i]!, runs[3 * i]! + runs[3 * i + 2]!), runs[3 * i + 1]!);
      copies++;
    }
    return count;
  };
  const clock = new FakeClock();
  const r = new Reassembler(clock, undefined, copyRuns);
  const slab = new Uint8Array(256 * 1024);
  const elsewhere = new Uint8Array(2048);
  const header = newDataHeader();
  type Piece = { key: number; seq: number; packet: Uint8Array; s: number; e: number };
  const queue: Piece[] = [];
  const packets = new Map<string, Uint8Array>();
  let completed = 0, overlaps = 0, nextSeq = 1;
  for (let round = 0; round < 600; round++) {
    // Keep a few packets of connections 1 and 2 in flight, their segments interleaved.
    while (queue.length < 120) {
      const key = 1 + rand(2);
      const total = 2000 + rand(63_536);
      const chunk = 1000 + rand(1400);
      const seq = nextSeq++;
      const packet = packetOf(total, seq);
      packets.set(`${key}/${seq}`, packet);
      const at = rand(queue.length + 1);
      const pieces: Piece[] = [];
      for (let s = 0; s < total; s += chunk) pieces.push({ key, seq, packet, s, e: Math.min(total, s + chunk) });
      if (rand(5) === 0 && pieces.length > 1) pieces.splice(rand(pieces.length), 0, { ...pieces[rand(pieces.length)]! });
      if (rand(12) === 0) {
        const s = rand(total - 10);
        pieces.splice(rand(pieces.length), 0, { key, seq, packet, s, e: s + 1 + rand(9) });
      }
      queue.splice(at, 0, ...pieces);
    }
    const burst = queue.splice(0, 1 + rand(80));
    // The burst's segments laid out in the slab where they arrived, then accepted from there.
    r.deferCopies(slab);
    let used = 0;
    for (const p of burst) {
      const n = p.e - p.s;
      const inSlab = rand(10) !== 0;
      const src = inSlab ? slab : elsewhere;
      const from = inSlab ? used : 0;
      if (!inSlab && n > elsewhere.length) continue;
      src.set(p.packet.subarray(p.s, p.e), from);
      used += inSlab ? n : 0;
      header.packetSeq = p.seq;
      header.totalLength = p.packet.length;
      header.offset = p.s;
      header.length = n;
      const before = r.counters.overlaps;
      const got = r.accept(p.key, header, src, from, n);
      // What lies elsewhere is the caller's only during accept().
      if (!inSlab) elsewhere.fill(0xee);
      if (r.counters.overlaps > before) overlaps++;
      if (got !== null) {
        assert.deepEqual(got, packets.get(`${p.key}/${p.seq}`), `packet ${p.key}/${p.seq} reassembled in round ${round}`);
        r.recycle();
        completed++;
      }
    }
    r.deferCopies(null);
    // The next burst overwrites the slab: a copy still gathered now would take these octets.
    slab.fill(0xa5, 0, used);
  }
  assert.ok(completed > 300 && overlaps > 5, `completed ${completed}, overlaps ${overlaps}`);
  assert.ok(copies > 5 * calls, `copies gathered: ${copies} copies in ${calls} calls`);
});

test('deferCopies without copyRuns, and segments from another array while deferring, are copied at once', () => {
  const clock = new FakeClock();
  const plain = new Reassembler(clock);
  const packet = packetOf(3000, 7);
  const slab = new Uint8Array(4000);
  const header = newDataHeader();
  header.packetSeq = 1;
  header.totalLength = 3000;
  plain.deferCopies(slab);
  slab.set(packet.subarray(0, 1500), 0);
  header.offset = 0;
  header.length = 1500;
  assert.equal(plain.accept(1, header, slab, 0, 1500), null);
  slab.fill(0);
  slab.set(packet.subarray(1500), 100);
  header.offset = 1500;
  assert.deepEqual(plain.accept(1, header, slab, 100, 1500), packet);
  plain.deferCopies(null);
  let calls = 0;
  const gathering = new Reassembler(clock, undefined, () => {
    calls++;
    return -1;
  });
  gathering.deferCopies(slab);
  const other = packet.slice(0, 1500);
  header.packetSeq = 2;
  header.offset = 0;
  assert.equal(gathering.accept(1, header, other, 0, 1500), null);
  other.fill(0);
  slab.fill(0);
  slab.set(packet.subarray(1500), 0);
  header.offset = 1500;
  // copyRuns refusing (-1) falls back to copying the gathered runs one by one.
  assert.deepEqual(gathering.accept(1, header, slab, 0, 1500), packet);
  assert.equal(calls, 1);
});
