// X25519 on raw keys in the addon (src/tun/native/x25519.cc: OpenSSL's ossl_x25519, and its EVP
// path): RFC 7748's vectors, agreement with node:crypto on random keys, low-order points and bad
// arguments; then crypto/primitives.ts through it (useX25519, as msnld sets it up), the Noise
// handshake included.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { diffieHellman, generateKeyPairSync, randomBytes } from 'node:crypto';
import { useNativeHandshake, useNodeCryptoHandshake } from '../../src/daemon/aead.js';
import { dh, generateKeyPair, publicKeyOf, useX25519, x25519Name, type RawX25519 } from '../../src/crypto/primitives.js';
import { loadNative } from '../../src/tun/native.js';

const addon = loadNative();
const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');
const unhex = (s: string): Uint8Array => new Uint8Array(Buffer.from(s, 'hex'));
const x25519 = addon.x25519!;
const ways: { name: string; run: RawX25519 }[] = [
  { name: 'direct', run: (out, k, p) => x25519(out, k, p) },
  { name: 'EVP', run: (out, k, p) => x25519(out, k, p, true) },
];

test('the addon is built with x25519.cc, on ossl_x25519 where Node.js 20 bundles OpenSSL', () => {
  assert.equal(typeof addon.x25519, 'function');
  const implementation = addon.x25519Implementation!();
  assert.ok(implementation === 'openssl-primitives' || implementation === 'evp', implementation);
  const bundled = (process.config.variables as { node_shared_openssl?: boolean }).node_shared_openssl !== true;
  if (bundled && process.versions.node.startsWith('20.')) assert.equal(implementation, 'openssl-primitives');
});

for (const { name, run } of ways) {
  test(`${name}: RFC 7748 section 5.2 vectors`, () => {
    const out = new Uint8Array(32);
    assert.equal(run(out, unhex('a546e36bf0527c9d3b16154b82465edd62144c0ac1fc5a18506a2244ba449ac4'), unhex('e6db6867583030db3594c1a424b15f7c726624ec26b3353b10a903a6d0ab1c4c')), true);
    assert.equal(hex(out), 'c3da55379de9c6908e94ea4df28d084f32eccf03491c71f754b4075577a28552');
    assert.equal(run(out, unhex('4b66e9d4d1b4673c5ad22691957d6af5c11b6421e0ea01d42ca4169e7918ba0d'), unhex('e5210f12786811d3f4b7959d0538ae2c31dbe7106fc03c3efc4cd549c715a493')), true);
    assert.equal(hex(out), '95cbde9476e8907d7aade45cb4b873f88b595a68799fa152e6f8f7647aac7957');
  });

  test(`${name}: RFC 7748 section 5.2 iterated, 1 and 1000 times`, () => {
    let k: Uint8Array = unhex('0900000000000000000000000000000000000000000000000000000000000000');
    let u: Uint8Array = new Uint8Array(k);
    for (let i = 1; i <= 1000; i++) {
      const out = new Uint8Array(32);
      assert.equal(run(out, k, u), true);
      u = k;
      k = out;
      if (i === 1) assert.equal(hex(k), '422c8e7a6227d7bca1350b3e2bb7279f7897b87bb6854b783c60e80311ae3079');
    }
    assert.equal(hex(k), '684cf59ba83309552800ef566f2f4d3c1c3887c49360e3875f2eb94d99532c51');
  });

  test(`${name}: RFC 7748 section 6.1 Alice and Bob, public keys and the shared secret`, () => {
    const alice = unhex('77076d0a7318a57d3c16c17251b26645df4c2f87ebc0992ab177fba51db92c2a');
    const bob = unhex('5dab087e624a8a4b79e17f8b83800ee66f3bb1292618b6fd1c2f8b27ff88e0eb');
    const alicePublic = new Uint8Array(32);
    const bobPublic = new Uint8Array(32);
    assert.equal(run(alicePublic, alice, null), true);
    assert.equal(run(bobPublic, bob, null), true);
    assert.equal(hex(alicePublic), '8520f0098930a754748b7ddcb43ef75a0dbf3a0d26381af4eba4a98eaa9b4e6a');
    assert.equal(hex(bobPublic), 'de9edb7d7b7dc1b4d35b61c2ece435373f8343c85b78674dadfc7e146f882b4f');
    const one = new Uint8Array(32);
    const two = new Uint8Array(32);
    assert.equal(run(one, alice, bobPublic) && run(two, bob, alicePublic), true);
    assert.equal(hex(one), '4a5d9d5ba4ce2de1728e3bf480350f25e07e21c947d19e3376f09b3c1e161742');
    assert.equal(hex(two), hex(one));
  });

  test(`${name}: 200 random key pairs agree with node:crypto`, () => {
    for (let i = 0; i < 200; i++) {
      const a = generateKeyPairSync('x25519');
      const b = generateKeyPairSync('x25519');
      const aRaw = new Uint8Array(a.privateKey.export({ format: 'der', type: 'pkcs8' }).subarray(-32));
      const bPublic = new Uint8Array(b.publicKey.export({ format: 'der', type: 'spki' }).subarray(-32));
      const aPublic = new Uint8Array(a.publicKey.export({ format: 'der', type: 'spki' }).subarray(-32));
      const out = new Uint8Array(32);
      assert.equal(run(out, aRaw, null), true);
      assert.equal(hex(out), hex(aPublic));
      assert.equal(run(out, aRaw, bPublic), true);
      assert.equal(hex(out), hex(diffieHellman({ privateKey: a.privateKey, publicKey: b.publicKey })));
    }
    // Unclamped random octets as the private key and as the peer's point: clamping and the
    // masking of the point's top bit are OpenSSL's, as node:crypto's.
    for (let i = 0; i < 50; i++) {
      const k = new Uint8Array(randomBytes(32));
      const p = new Uint8Array(randomBytes(32));
      const out = new Uint8Array(32);
      const ok = run(out, k, p);
      const reference = dh(k, p); // node:crypto: useX25519 is not set in this file until the last test
      assert.equal(ok ? hex(out) : null, reference === null ? null : hex(reference));
    }
  });

  test(`${name}: a low-order point gives false and a zeroed out; a wrong length gives false; neither throws`, () => {
    const mine = new Uint8Array(randomBytes(32));
    const lowOrder = [
      '0000000000000000000000000000000000000000000000000000000000000000',
      '0100000000000000000000000000000000000000000000000000000000000000',
      'e0eb7a7c3b41b8ae1656e3faf19fc46ada098deb9c32b1fd866205165f49b800',
      'ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f',
    ];
    for (const point of lowOrder) {
      const out = new Uint8Array(32).fill(7);
      assert.equal(run(out, mine, unhex(point)), false, point);
      assert.equal(hex(out), '00'.repeat(32));
    }
    const out = new Uint8Array(32);
    assert.equal(run(out, mine, new Uint8Array(31)), false);
    assert.equal(run(out, new Uint8Array(33), null), false);
    assert.equal(run(new Uint8Array(31), mine, null), false);
  });
}

test('arguments of the wrong type are a TypeError, never a crash', () => {
  const call = addon.x25519 as unknown as (...args: unknown[]) => unknown;
  assert.throws(() => call(), TypeError);
  assert.throws(() => call(new Uint8Array(32), 'key', null), TypeError);
  assert.throws(() => call(new Uint8Array(32), new Uint8Array(32), [1, 2]), TypeError);
  assert.throws(() => call(new Uint32Array(8), new Uint8Array(32), null), TypeError);
});

test('out may be the private key\'s own array', () => {
  const k = new Uint8Array(randomBytes(32));
  const expected = new Uint8Array(32);
  assert.equal(x25519(expected, k, null), true);
  assert.equal(x25519(k, k, null), true);
  assert.equal(hex(k), hex(expected));
});

test('primitives through the addon (as msnld sets it up): vectors, key pairs, and agreement with node:crypto', () => {
  try {
    assert.equal(useNativeHandshake(), addon.x25519Implementation!());
    assert.equal(x25519Name(), 'raw');
    const alice = unhex('77076d0a7318a57d3c16c17251b26645df4c2f87ebc0992ab177fba51db92c2a');
    assert.equal(hex(publicKeyOf(alice)), '8520f0098930a754748b7ddcb43ef75a0dbf3a0d26381af4eba4a98eaa9b4e6a');
    assert.equal(dh(alice, new Uint8Array(32)), null);
    assert.equal(dh(alice, new Uint8Array(31)), null);
    const pairs = Array.from({ length: 20 }, () => generateKeyPair());
    const shared = pairs.slice(1).map((p, i) => hex(dh(pairs[i]!.privateKey, p.publicKey)!));
    assert.equal(new Set(pairs.map((p) => hex(p.privateKey))).size, 20);
    useX25519(null);
    assert.equal(x25519Name(), 'node:crypto');
    for (const p of pairs) assert.equal(hex(publicKeyOf(p.privateKey)), hex(p.publicKey));
    assert.deepEqual(pairs.slice(1).map((p, i) => hex(dh(p.privateKey, pairs[i]!.publicKey)!)), shared);
  } finally {
    useNodeCryptoHandshake();
  }
});
