// The batched AEAD: the addon's (src/tun/native/aead.cc: RFC 8439 over OpenSSL's ChaCha20 and
// Poly1305, and its EVP path) against the node:crypto reference (src/crypto/aead.ts) and RFC
// 8439's vector, then 100 000 random and mutated inputs to each native open: no crash, no read
// outside the arrays, every forgery rejected.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { AEAD_FAILED, AEAD_ITEM, Desc, describe, nodeCryptoAead, type AeadBatch } from '../../src/crypto/aead.js';
import { defaultAead } from '../../src/daemon/aead.js';
import { loadNative } from '../../src/tun/native.js';

const native = defaultAead();
const addon = loadNative();
/** The addon's EVP path, which msnld uses only where Node.js does not export the primitives. */
const evp: AeadBatch = {
  name: 'native EVP',
  seal: (keys, buf, desc, count) => addon.aeadSeal(keys, buf, desc, count, true),
  open: (keys, buf, desc, count) => addon.aeadOpen(keys, buf, desc, count, true),
};
const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');
const unhex = (s: string): Uint8Array => new Uint8Array(Buffer.from(s, 'hex'));

test('the addon is built with aead.cc, so msnld seals natively, on the primitives where Node.js bundles OpenSSL', () => {
  assert.equal(native.name, 'native');
  const bundled = (process.config.variables as { node_shared_openssl?: boolean }).node_shared_openssl !== true;
  const implementation = addon.aeadImplementation();
  assert.ok(implementation === 'openssl-primitives' || implementation === 'evp', implementation);
  // Node.js 20 with its own OpenSSL exports ChaCha20_ctr32 and Poly1305_* (checked); other
  // releases may not, and then EVP serves, which the tests below check as well.
  if (bundled && process.versions.node.startsWith('20.')) assert.equal(implementation, 'openssl-primitives');
});

const RFC_PLAIN = new TextEncoder().encode("Ladies and Gentlemen of the class of '99: If I could offer you only one tip for the future, sunscreen would be it.");
const RFC_KEY = unhex('808182838485868788898a8b8c8d8e8f909192939495969798999a9b9c9d9e9f');
const RFC_AD = unhex('50515253c0c1c2c3c4c5c6c7');
const RFC_SEALED = [
  'd31a8d34648e60db7b86afbc53ef7ec2a4aded51296e08fea9e2b5a736ee62d63dbea45e8ca9671282fafb69da92728b',
  '1a71de0a9e060b2905d6a5b67ecd3b3692ddbd7f2d778b8c9803aee328091b58fab324e4fad675945585808b4831d7bc',
  '3ff4def08e4b7a9de576d26586cec64b6116',
  '1ae10b594f09e26a7e902ecbd0600691',
].join('');

/** RFC 8439 2.8.2: nonce 07000000 40414243 44454647 as little-endian words. */
function rfcItem(desc: Uint32Array, dataLength: number): void {
  describe(desc, 0, 0, 0, 0, RFC_AD.length, RFC_AD.length, dataLength);
  desc[Desc.NONCE] = 0x00000007;
  desc[Desc.NONCE + 1] = 0x43424140;
  desc[Desc.NONCE + 2] = 0x47464544;
}

for (const impl of [native, evp, nodeCryptoAead]) {
  test(`${impl.name}: RFC 8439 2.8.2, sealed and opened in place`, () => {
    const buf = new Uint8Array(RFC_AD.length + RFC_PLAIN.length + 16);
    buf.set(RFC_AD, 0);
    buf.set(RFC_PLAIN, RFC_AD.length);
    const desc = new Uint32Array(AEAD_ITEM);
    rfcItem(desc, RFC_PLAIN.length);
    assert.equal(impl.seal(RFC_KEY, buf, desc, 1), 1);
    assert.equal(desc[Desc.RESULT], RFC_PLAIN.length + 16);
    assert.equal(hex(buf.subarray(RFC_AD.length)), RFC_SEALED);
    rfcItem(desc, RFC_PLAIN.length + 16);
    impl.open(RFC_KEY, buf, desc, 1);
    assert.equal(desc[Desc.RESULT], RFC_PLAIN.length);
    assert.deepEqual(buf.subarray(RFC_AD.length, RFC_AD.length + RFC_PLAIN.length), RFC_PLAIN);
    // The same with one bit of the AD flipped: rejected.
    buf.set(unhex(RFC_SEALED), RFC_AD.length);
    buf[0]! ^= 0x80;
    impl.open(RFC_KEY, buf, desc, 1);
    assert.equal(desc[Desc.RESULT], AEAD_FAILED);
  });
}

for (const impl of [native, evp]) test(`${impl.name} and node:crypto agree on random keys, counters, lengths (0..1499) and batches, both ways`, () => {
  for (let round = 0; round < 60; round++) {
    const count = 1 + (round % 9);
    const keys = new Uint8Array(randomBytes(32 * count));
    const buf = new Uint8Array(count * 1600);
    const desc = new Uint32Array(count * AEAD_ITEM);
    for (let i = 0; i < count; i++) {
      const length = round < 20 ? round * 9 + i : (round * 131 + i * 977) % 1500;
      const counter = i % 2 === 0 ? (round * 7919 + i) : 2 ** 52 + round * 1000 + i;
      buf.set(randomBytes(length + 16), i * 1600);
      describe(desc, i, i * 32, counter, i * 1600, 16, i * 1600 + 16, length);
    }
    const a = new Uint8Array(buf), b = new Uint8Array(buf);
    const da = new Uint32Array(desc), db = new Uint32Array(desc);
    impl.seal(keys, a, da, count);
    nodeCryptoAead.seal(keys, b, db, count);
    assert.deepEqual(a, b);
    assert.deepEqual(da, db);
    // Open what the other sealed.
    for (let i = 0; i < count; i++) da[i * AEAD_ITEM + Desc.DATA_LENGTH] = db[i * AEAD_ITEM + Desc.DATA_LENGTH] = da[i * AEAD_ITEM + Desc.RESULT]!;
    nodeCryptoAead.open(keys, a, da, count);
    impl.open(keys, b, db, count);
    assert.deepEqual(a, b);
    assert.deepEqual(da, db);
    for (let i = 0; i < count; i++) {
      const at = i * AEAD_ITEM;
      assert.equal(da[at + Desc.RESULT], da[at + Desc.DATA_LENGTH]! - 16);
      assert.deepEqual(a.subarray(i * 1600, i * 1600 + 16 + da[at + Desc.RESULT]!), buf.subarray(i * 1600, i * 1600 + 16 + da[at + Desc.RESULT]!), 'opened back to the plaintext');
    }
  }
});

for (const native of [defaultAead(), evp]) test(`${native.name}: descriptors outside the arrays fail the item, do not throw, and touch nothing`, () => {
  const keys = new Uint8Array(32);
  const buf = new Uint8Array(100);
  const desc = new Uint32Array(AEAD_ITEM * 5);
  describe(desc, 0, 1, 0, 0, 0, 0, 10); // key past the end
  describe(desc, 1, 0, 0, 95, 10, 0, 10); // ad past the end
  describe(desc, 2, 0, 0, 0, 0, 90, 0); // seal: no room for the tag
  describe(desc, 3, 0, 0, 0xffffffff, 2, 0, 10); // wrapping offset
  describe(desc, 4, 0, 0, 0, 0, 50, 0xfffffff0);
  native.seal(keys, buf, desc, 5);
  for (let i = 0; i < 5; i++) assert.equal(desc[i * AEAD_ITEM + Desc.RESULT], 0, `item ${i}`);
  assert.deepEqual(buf, new Uint8Array(100));
  native.open(keys, buf, desc, 5);
  for (let i = 0; i < 5; i++) assert.equal(desc[i * AEAD_ITEM + Desc.RESULT], AEAD_FAILED, `item ${i}`);
  describe(desc, 0, 0, 0, 0, 0, 0, 15); // shorter than a tag
  native.open(keys, buf, desc, 1);
  assert.equal(desc[Desc.RESULT], AEAD_FAILED);
  assert.equal(native.seal(keys, buf, desc, 99), 5, 'count is cut to what desc holds');
  assert.equal(native.seal(keys, buf, desc, -3), 0);
  assert.throws(() => (native as AeadBatch & { seal: (...a: unknown[]) => number }).seal('x', buf, desc, 1), TypeError);
  assert.throws(() => (native as AeadBatch & { open: (...a: unknown[]) => number }).open(keys, buf, new Uint8Array(8), 1), TypeError);
});

for (const native of [defaultAead(), evp]) test(`${native.name} open: 100 000 random and mutated frames, none crashes, every forgery is rejected`, () => {
  const key = new Uint8Array(randomBytes(32));
  const genuine = new Uint8Array(16 + 200 + 16);
  genuine.set(randomBytes(216));
  const d = new Uint32Array(AEAD_ITEM);
  describe(d, 0, 0, 12345, 0, 16, 16, 200);
  native.seal(key, genuine, d, 1);
  // Every other round the datagram lies 64 octets in (the front the addon's one-call path uses).
  const whole = new Uint8Array(64 + genuine.length + 64);
  const desc = new Uint32Array(AEAD_ITEM * 16);
  const noise = new Uint8Array(randomBytes(1 << 16));
  let forged = 0;
  let k = 0;
  const next = (): number => {
    k = (k + 1) & 0xffff;
    return noise[k]!;
  };
  for (let round = 0; round < 100_000 / 16; round++) {
    const base = (round & 1) * 64;
    const work = whole.subarray(base);
    for (let i = 0; i < 16; i++) {
      const mode = next() % 4;
      let length = genuine.length;
      whole.fill(0xa5);
      work.set(genuine);
      if (mode === 0) {
        // a random datagram of random length
        length = next() + next() % 40;
        for (let j = 0; j < length; j++) work[j] = next();
      } else if (mode === 1) {
        // flip 1..4 bits of the header, body or tag
        for (let f = 1 + (next() % 4); f > 0; f--) {
          const at = (next() * 256 + next()) % genuine.length;
          work[at]! ^= 1 << (next() % 8);
        }
      } else if (mode === 2) {
        length = (next() * 256 + next()) % genuine.length; // truncated
      }
      // mode 3: genuine bytes under a wrong counter
      const counter = mode === 3 ? 12345 + 1 + next() : 12345;
      const dataLength = Math.max(0, length - 16);
      describe(desc, i, 0, counter, base, Math.min(16, length), base + 16, dataLength);
      // everything but an exact genuine copy is a forgery
      const same = mode !== 3 && length === genuine.length && work.subarray(0, length).every((v, j) => v === genuine[j]);
      // each item needs its own copy: put it in a batch of one
      const before = new Uint8Array(whole);
      native.open(key, whole, desc.subarray(i * AEAD_ITEM, (i + 1) * AEAD_ITEM), 1);
      const got = desc[i * AEAD_ITEM + Desc.RESULT];
      if (same) assert.equal(got, 200);
      else {
        assert.equal(got, AEAD_FAILED, `round ${round} item ${i} mode ${mode}`);
        // (EVP deciphers before it checks: what it leaves is documented as untrusted)
        if (native !== evp && round % 64 < 2) assert.deepEqual(whole, before, 'a forgery leaves the buffer as it came');
        forged++;
      }
    }
  }
  assert.ok(forged > 90_000, `${forged} forgeries tried`);
});
