// BLAKE2s and HMAC-BLAKE2s in the addon (src/tun/native/hkdf.cc: blake2s, hmacBlake2s) against
// node:crypto's on random inputs, their bad arguments, and crypto/primitives.ts's hash(), hmac()
// and mac() through them (useHashes, as msnld sets it up), with a whole handshake and its macs.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, createHmac, randomBytes } from 'node:crypto';
import { CookieChecker, CookieGenerator } from '../../src/crypto/cookie.js';
import { initialState, readMessage1, readMessage2, writeMessage1, writeMessage2 } from '../../src/crypto/noise.js';
import { hash, hmac, keyPairOf, mac, useHashes } from '../../src/crypto/primitives.js';
import { useNativeHandshake, useNodeCryptoHandshake } from '../../src/daemon/aead.js';
import { loadNative } from '../../src/tun/native.js';

const addon = loadNative();
const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');
const random = (n: number): Uint8Array => new Uint8Array(randomBytes(n));
const native = { blake2s: addon.blake2s!, hmacBlake2s: addon.hmacBlake2s! };

test('the addon is built with blake2s and hmacBlake2s', () => {
  assert.equal(typeof addon.blake2s, 'function');
  assert.equal(typeof addon.hmacBlake2s, 'function');
});

test('one and two parts of 0 to 300 octets equal node:crypto\'s digest and HMAC', () => {
  for (const [la, lb] of [[0, 0], [1, 0], [32, 0], [32, 32], [32, 48], [64, 65], [300, 7], [0, 33]] as const) {
    for (const keyLength of [1, 16, 32, 64, 65, 100]) {
      const a = random(la);
      const b = random(lb);
      const key = random(keyLength);
      const out = new Uint8Array(32);
      assert.equal(native.blake2s(out, a, b), true);
      assert.equal(hex(out), createHash('blake2s256').update(a).update(b).digest('hex'));
      assert.equal(native.blake2s(out, a), true);
      assert.equal(hex(out), createHash('blake2s256').update(a).digest('hex'));
      assert.equal(native.hmacBlake2s(out, key, a, lb === 0 ? null : b), true);
      assert.equal(hex(out), createHmac('blake2s256', key).update(a).update(b).digest('hex'));
    }
  }
});

test('out may overlap the inputs', () => {
  const h = random(32);
  const data = random(48);
  const expected = createHash('blake2s256').update(h).update(data).digest('hex');
  assert.equal(native.blake2s(h, h, data), true);
  assert.equal(hex(h), expected);
  const key = random(32);
  const expectedMac = createHmac('blake2s256', key).update(data).digest('hex');
  assert.equal(native.hmacBlake2s(key, key, data), true);
  assert.equal(hex(key), expectedMac);
});

test('bad arguments: false and nothing written, or a TypeError; never a crash', () => {
  const short = new Uint8Array(31).fill(7);
  assert.equal(native.blake2s(short, random(4)), false, 'no room for 32 octets');
  assert.equal(native.hmacBlake2s(short, random(32), random(4)), false);
  assert.equal(native.hmacBlake2s(new Uint8Array(32), new Uint8Array(0), random(4)), false, 'an empty key (EVP_MAC_init would keep the last one)');
  assert.equal(hex(short), '07'.repeat(31));
  const b2 = native.blake2s as unknown as (...args: unknown[]) => unknown;
  const hm = native.hmacBlake2s as unknown as (...args: unknown[]) => unknown;
  assert.throws(() => b2(), TypeError);
  assert.throws(() => b2(new Uint8Array(32), 'a'), TypeError);
  assert.throws(() => b2(new Uint8Array(32), random(1), 5), TypeError);
  assert.throws(() => hm(new Uint8Array(32), random(32)), TypeError);
  assert.throws(() => hm(new Uint8Array(32), random(32), random(1), {}), TypeError);
});

test('hash, hmac and mac through useHashes give node:crypto\'s octets (an empty key and 3 parts fall back)', () => {
  const parts = [random(32), random(48), random(5)] as const;
  const key = random(32);
  const reference = [hash(parts[0]), hash(parts[0], parts[1]), hash(...parts), hmac(key, parts[0]), hmac(key, parts[0], parts[1]), hmac(key, ...parts), hmac(new Uint8Array(0), parts[0]), mac(key, parts[1])].map(hex);
  let calls = 0;
  try {
    useHashes({ blake2s: (...a) => { calls++; return native.blake2s(...a); }, hmacBlake2s: (...a) => { calls++; return native.hmacBlake2s(...a); } });
    assert.deepEqual([hash(parts[0]), hash(parts[0], parts[1]), hash(...parts), hmac(key, parts[0]), hmac(key, parts[0], parts[1]), hmac(key, ...parts), hmac(new Uint8Array(0), parts[0]), mac(key, parts[1])].map(hex), reference);
    assert.equal(calls, 5, 'all but the two of 3 parts and the empty key through the addon');
    useHashes({ blake2s: () => false, hmacBlake2s: () => false });
    assert.deepEqual([hash(parts[0]), hmac(key, parts[0])].map(hex), [reference[0], reference[3]], 'a refusal: node:crypto');
  } finally {
    useHashes(null);
  }
});

test('a whole handshake with its macs as msnld runs it (useNativeHandshake) gives node:crypto\'s messages and keys', () => {
  const keys = ['i', 'r', 'ei', 'er'].map(() => keyPairOf(random(32)));
  const [si, sr, ei, er] = keys as [typeof keys[0], typeof keys[0], typeof keys[0], typeof keys[0]];
  const shake = (): string[] => {
    const start = initialState(new TextEncoder().encode('test'), sr.publicKey);
    const w1 = writeMessage1(start, si, sr.publicKey, ei, Uint8Array.of(1, 2))!;
    const msg = new Uint8Array(w1.message.length + 32);
    msg.set(w1.message);
    new CookieGenerator(sr.publicKey, () => 0).addMacs(msg);
    assert.equal(new CookieChecker(sr.publicKey, () => 0).checkMac1(msg), true);
    const r1 = readMessage1(start, sr, w1.message)!;
    const w2 = writeMessage2(r1.state, er, Uint8Array.of(3))!;
    const r2 = readMessage2(w1.state, w2.message)!;
    return [msg, w2.message, r2.keys.send, r2.keys.receive, w2.keys.send, r2.keys.handshakeHash].map(hex);
  };
  const reference = shake();
  try {
    useNativeHandshake();
    assert.deepEqual(shake(), reference);
  } finally {
    useNodeCryptoHandshake();
  }
});
