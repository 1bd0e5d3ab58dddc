// The Noise HKDF in the addon (src/tun/native/hkdf.cc: HMAC-BLAKE2s through OpenSSL's EVP_MAC)
// against crypto/primitives.ts's node:crypto one on random inputs, its bad arguments, and a whole
// handshake with the addon's X25519 and HKDF (as msnld) against one with node:crypto's.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { initialState, readMessage1, readMessage2, writeMessage1, writeMessage2 } from '../../src/crypto/noise.js';
import { hkdf2, hkdf3, hmac, keyPairOf, useHkdf } from '../../src/crypto/primitives.js';
import { useNativeHandshake, useNodeCryptoHandshake } from '../../src/daemon/aead.js';
import { loadNative } from '../../src/tun/native.js';

const addon = loadNative();
const noiseHkdf = addon.noiseHkdf!;
const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');
const random = (n: number): Uint8Array => new Uint8Array(randomBytes(n));

test('the addon is built with hkdf.cc', () => {
  assert.equal(typeof addon.noiseHkdf, 'function');
});

test('2 and 3 outputs equal node:crypto\'s HMAC-BLAKE2s chain, for inputs of 0 to 200 octets', () => {
  for (const length of [0, 1, 16, 32, 33, 64, 65, 200]) {
    for (let i = 0; i < 20; i++) {
      const ck = random(32);
      const input = random(length);
      const out = new Uint8Array(96).fill(0xee);
      assert.equal(noiseHkdf(out, ck, input, 3), true);
      const [a, b, c] = hkdf3(ck, input); // node:crypto: useHkdf is not set in this file until the last test
      assert.equal(hex(out), hex(a) + hex(b) + hex(c));
      const two = new Uint8Array(64);
      assert.equal(noiseHkdf(two, ck, input, 2), true);
      assert.deepEqual(hkdf2(ck, input).map(hex), [hex(two.subarray(0, 32)), hex(two.subarray(32))]);
      // The definition itself (Noise section 4.3), spelled out once more over node:crypto's HMAC.
      const temp = hmac(ck, input);
      assert.equal(hex(two.subarray(0, 32)), hex(hmac(temp, Uint8Array.of(1))));
      assert.equal(hex(two.subarray(32)), hex(hmac(temp, two.subarray(0, 32), Uint8Array.of(2))));
    }
  }
});

test('out may overlap the chaining key and the input', () => {
  const ck = random(32);
  const input = random(32);
  const expected = hkdf2(ck, input);
  const shared = new Uint8Array(64);
  shared.set(ck, 0);
  shared.set(input, 32);
  assert.equal(noiseHkdf(shared, shared.subarray(0, 32), shared.subarray(32), 2), true);
  assert.equal(hex(shared), hex(expected[0]) + hex(expected[1]));
});

test('bad arguments: false and nothing written, or a TypeError; never a crash', () => {
  const out = new Uint8Array(96).fill(7);
  assert.equal(noiseHkdf(out, random(31), random(32), 2), false, 'a chaining key is 32 octets');
  assert.equal(noiseHkdf(out, random(32), random(32), 4), false);
  assert.equal(noiseHkdf(out, random(32), random(32), 1), false);
  assert.equal(noiseHkdf(new Uint8Array(95), random(32), random(32), 3), false, 'no room for 3 outputs');
  assert.equal(hex(out), '07'.repeat(96));
  const call = noiseHkdf as unknown as (...args: unknown[]) => unknown;
  assert.throws(() => call(), TypeError);
  assert.throws(() => call(out, 'ck', random(1), 2), TypeError);
  assert.throws(() => call(out, random(32), random(1), '2'), TypeError);
});

test('a whole handshake with the addon\'s X25519 and HKDF gives the messages and keys node:crypto gives', () => {
  const keys = ['i', 'r', 'ei', 'er'].map(() => keyPairOf(random(32)));
  const [si, sr, ei, er] = keys as [typeof keys[0], typeof keys[0], typeof keys[0], typeof keys[0]];
  const shake = (): string[] => {
    const start = initialState(new TextEncoder().encode('test'), sr.publicKey);
    const w1 = writeMessage1(start, si, sr.publicKey, ei, Uint8Array.of(1, 2))!;
    const r1 = readMessage1(start, sr, w1.message)!;
    const w2 = writeMessage2(r1.state, er, Uint8Array.of(3))!;
    const r2 = readMessage2(w1.state, w2.message)!;
    return [w1.message, w2.message, r2.keys.send, r2.keys.receive, w2.keys.send, r2.keys.handshakeHash].map(hex);
  };
  const reference = shake();
  try {
    useNativeHandshake();
    assert.deepEqual(shake(), reference);
  } finally {
    useNodeCryptoHandshake();
  }
});
