// The addon's aeadSealSegments (src/tun/native/aead-segments.cc), which cuts a large packet into
// sealed segments in one call: the same octets as sealing each segment through the node:crypto
// reference, for many sizes, chunk sizes and counters (across the 32-bit word and up to 2^53);
// then random and hostile arguments: a 0 result or a TypeError, never a write outside `out`.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { describe, nodeCryptoAead } from '../../src/crypto/aead.js';
import { defaultAead } from '../../src/daemon/aead.js';
import { SEALED_HEADER_SIZE, writeSealedHeader } from '../../src/msnl/secure-wire.js';
import { SEGMENT_OVERHEAD } from '../../src/msnl/secure-segments.js';
import { writeDataHeader } from '../../src/msnl/wire.js';
import { loadNative } from '../../src/tun/native.js';

const addon = loadNative();

/** Segment by segment through the reference AEAD, as data-send.ts and secure.ts seal them one at a time. */
function reference(key: Uint8Array, receiver: number, connId: number, seq: number, packet: Uint8Array, chunk: number, counter: number): Uint8Array {
  const count = Math.ceil(packet.length / chunk);
  const out = new Uint8Array(packet.length + count * SEGMENT_OVERHEAD);
  const desc = new Uint32Array(9);
  for (let i = 0, at = 0; i < count; i++) {
    const n = Math.min(chunk, packet.length - i * chunk);
    writeSealedHeader(out, at, receiver, counter + i);
    writeDataHeader(out, at + SEALED_HEADER_SIZE, connId, seq, packet.length, i * chunk);
    out.set(packet.subarray(i * chunk, i * chunk + n), at + 2 * SEALED_HEADER_SIZE);
    describe(desc, 0, 0, counter + i, at, SEALED_HEADER_SIZE, at + SEALED_HEADER_SIZE, SEALED_HEADER_SIZE + n);
    nodeCryptoAead.seal(key, out, desc, 1);
    assert.equal(desc[8], SEALED_HEADER_SIZE + n + 16);
    at += n + SEGMENT_OVERHEAD;
  }
  return out;
}

function heads(receiver: number, connId: number, seq: number, total: number): Uint8Array {
  const h = new Uint8Array(32);
  writeSealedHeader(h, 0, receiver, 0);
  writeDataHeader(h, 16, connId, seq, total, 0);
  return h;
}

test('msnld seals large packets with the addon primitive', () => {
  assert.equal(typeof addon.aeadSealSegments, 'function');
  assert.equal(typeof defaultAead().sealSegments, 'function');
});

test('aeadSealSegments lays out and seals the same octets as the segment-by-segment path', () => {
  const cases: [number, number, number][] = [
    [65535, 1424, 0], [65480, 1424, 7], [1473, 1424, 1], [2848, 1424, 0xfffffffe], [4000, 100, 0xffffffe0],
    [65535, 65535, 3], [1, 1, 0], [3, 1, 2 ** 53 - 3], [9000, 1392, 2 ** 40 + 5],
  ];
  for (const [length, chunk, counter] of cases) {
    const key = randomBytes(32);
    const packet = randomBytes(length + 7).subarray(7);
    const receiver = 0x01020304, connId = 0x0a0b0c0d, seq = 0xfedcba98;
    const expected = reference(key, receiver, connId, seq, packet, chunk, counter);
    for (const at of [48, 0, 5]) {
      const out = new Uint8Array(at + expected.length + 3).fill(0xee);
      const count = addon.aeadSealSegments!(key, heads(receiver, connId, seq, length), packet, 0, length, chunk, counter, out, at);
      assert.equal(count, Math.ceil(length / chunk), `${length}/${chunk}/${counter}`);
      assert.deepEqual(out.subarray(at, at + expected.length), expected, `${length}/${chunk}/${counter} at ${at}`);
      assert.ok(out.subarray(0, at).every((b) => b === 0xee) && out.subarray(at + expected.length).every((b) => b === 0xee), 'nothing written outside the segments');
    }
  }
});

test('aeadSealSegments refuses arguments out of range with 0 and never writes outside out', () => {
  const key = randomBytes(32);
  const h = heads(1, 2, 3, 100);
  const backing = new Uint8Array(4096).fill(0xab);
  const out = backing.subarray(1024, 2048);
  const src = randomBytes(3000);
  const bad: [number, number, number, number, number][] = [
    // srcOffset, length, chunk, counter, at
    [0, 0, 100, 0, 0], [0, 65536, 1424, 0, 0], [0, 100, 0, 0, 0], [0, 100, 65536, 0, 0], [2990, 100, 50, 0, 0],
    [0, 100, 50, 2 ** 53 - 1, 0], [0, 100, 50, -1, 0], [0, 100, 50, 0.5, 0], [0, 100.5, 50, 0, 0], [-1, 100, 50, 0, 0],
    [0, 100, 50, 0, 1024], [0, 1000, 100, 0, 100], [0, 100, 50, 0, 1024 - 100 - 2 * 48 + 1], [NaN, 100, 50, 0, 0],
    [0, 100, 50, Infinity, 0], [0, 100, 50, 0, -5], [2 ** 32, 100, 50, 0, 0],
  ];
  for (const [srcOffset, length, chunk, counter, at] of bad) {
    assert.equal(addon.aeadSealSegments!(key, h, src, srcOffset, length, chunk, counter, out, at), 0, JSON.stringify([srcOffset, length, chunk, counter, at]));
  }
  assert.ok(backing.every((b) => b === 0xab), 'a refused call writes nothing');
  assert.equal(addon.aeadSealSegments!(key.subarray(0, 31), h, src, 0, 100, 50, 0, out, 0), 0, 'a short key');
  assert.equal(addon.aeadSealSegments!(key, h.subarray(0, 31), src, 0, 100, 50, 0, out, 0), 0, 'short heads');
  // Random arguments: a count that fits, or 0; never a write outside out.
  for (let i = 0; i < 20_000; i++) {
    const r = (m: number): number => Math.floor(Math.random() * m);
    const length = r(4) === 0 ? r(70000) : r(1200);
    const count = addon.aeadSealSegments!(key, h, src, r(3100), length, r(3) === 0 ? r(70000) : r(300), r(4) === 0 ? 2 ** 53 - r(100) : r(1000), out, r(1100));
    assert.ok(Number.isInteger(count) && count >= 0);
  }
  assert.ok(backing.subarray(0, 1024).every((b) => b === 0xab) && backing.subarray(2048).every((b) => b === 0xab), 'nothing outside out');
  assert.throws(() => (addon.aeadSealSegments as unknown as (...a: unknown[]) => number)(key, h, src, 0, 100, 50, 0, 'out', 0), TypeError);
  assert.throws(() => (addon.aeadSealSegments as unknown as (...a: unknown[]) => number)(key, h, src, '0', 100, 50, 0, out, 0), TypeError);
  assert.throws(() => (addon.aeadSealSegments as unknown as (...a: unknown[]) => number)(key, h), TypeError);
});
