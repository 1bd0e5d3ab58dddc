// FrameSealer: sealed frames in reused work buffers, a fresh one for a nested use, nothing kept
// after a failure; the addon's AEAD and node:crypto's give the same datagrams.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { nodeCryptoAead } from '../../src/crypto/aead.js';
import { defaultAead } from '../../src/daemon/aead.js';
import { FrameSealer } from '../../src/msnl/secure-sealer.js';
import { SEALED_HEADER_SIZE, SEAL_OVERHEAD } from '../../src/msnl/secure-wire.js';

const key = new Uint8Array(randomBytes(32));
const frame = new Uint8Array(randomBytes(300));

test('seal then open gives the frame back, in the same reused buffers each time', () => {
  const sealer = new FrameSealer(defaultAead());
  assert.equal(sealer.name, 'native');
  let lastOut: Uint8Array | undefined;
  let lastIn: Uint8Array | undefined;
  for (let counter = 0; counter < 5; counter++) {
    const out = sealer.seal(key, 0x01020304, counter, frame, 0, frame.length)!;
    const datagram = out.slice(0, frame.length + SEAL_OVERHEAD);
    sealer.sealed();
    if (lastOut !== undefined) assert.equal(out, lastOut, 'the same tx buffer');
    lastOut = out;
    const opened = sealer.open(key, counter, datagram, 0, datagram.length)!;
    assert.deepEqual(opened.subarray(SEALED_HEADER_SIZE, SEALED_HEADER_SIZE + frame.length), frame);
    sealer.opened();
    if (lastIn !== undefined) assert.equal(opened, lastIn, 'the same rx buffer');
    lastIn = opened;
  }
});

test('a nested seal gets a fresh buffer; a failed open gives its buffer back', () => {
  const sealer = new FrameSealer(defaultAead());
  const outer = sealer.seal(key, 7, 1, frame, 0, frame.length)!;
  const copy = outer.slice(0, frame.length + SEAL_OVERHEAD);
  const inner = sealer.seal(key, 7, 2, frame, 0, frame.length)!;
  assert.notEqual(inner, outer);
  sealer.sealed();
  assert.deepEqual(outer.subarray(0, copy.length), copy, 'the outer datagram was not overwritten');
  sealer.sealed();
  const bad = new Uint8Array(copy);
  bad[SEALED_HEADER_SIZE]! ^= 1;
  assert.equal(sealer.open(key, 1, bad, 0, bad.length), null);
  assert.equal(sealer.open(key, 2, copy, 0, copy.length), null, 'wrong counter');
  const good = sealer.open(key, 1, copy, 0, copy.length)!;
  const again = sealer.open(key, 1, copy, 0, copy.length)!; // nested: fresh
  assert.notEqual(again, good);
  sealer.opened();
  sealer.opened();
  assert.equal(sealer.open(key, 1, copy, 0, copy.length), good, 'the kept buffer again: failures gave theirs back');
  sealer.opened();
});

test('native and node:crypto sealers make identical datagrams', () => {
  const a = new FrameSealer(defaultAead());
  const b = new FrameSealer(nodeCryptoAead);
  for (const length of [1, 16, 1424, 1440]) {
    const f = new Uint8Array(randomBytes(length));
    const x = a.seal(key, 99, 2 ** 40 + length, f, 0, length)!.slice(0, length + SEAL_OVERHEAD);
    a.sealed();
    const y = b.seal(key, 99, 2 ** 40 + length, f, 0, length)!.slice(0, length + SEAL_OVERHEAD);
    b.sealed();
    assert.deepEqual(x, y);
  }
});

test('setting a host key warms the handshake and sealing up, touching no table or counter', async () => {
  const { SecureLayer } = await import('../../src/msnl/secure.js');
  const { generateKeyPair } = await import('../../src/crypto/primitives.js');
  const { DEFAULT_ENDPOINT_CONFIG, newCounters } = await import('../../src/msnl/types.js');
  let opened = 0;
  const original = FrameSealer.prototype.opened;
  FrameSealer.prototype.opened = function (this: FrameSealer): void {
    opened++;
    original.call(this);
  };
  try {
    const counters = newCounters();
    const before = JSON.stringify(counters);
    const host = { clock: { now: () => 0 }, random: { u32: () => 5 }, config: DEFAULT_ENDPOINT_CONFIG, counters } as unknown as ConstructorParameters<typeof SecureLayer>[0];
    const layer = new SecureLayer(host);
    layer.setIdentity(generateKeyPair());
    assert.equal(opened, 1, 'a whole handshake and one sealed frame ran');
    assert.equal(layer.stateSize(), 0);
    assert.equal(JSON.stringify(counters), before);
  } finally {
    FrameSealer.prototype.opened = original;
  }
});
