// Known-answer tests of the primitives secure MSNL takes from node:crypto: RFC 7748 (X25519),
// RFC 8439 (ChaCha20-Poly1305), BLAKE2s (RFC 7693 appendix and the reference test vectors).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { dh, equal, generateKeyPair, hash, open, publicKeyOf, seal, sealWithNonce, writeNonce } from '../../src/crypto/primitives.js';
import { formatKey, parseKey } from '../../src/crypto/keys.js';

const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');
const unhex = (s: string): Uint8Array => new Uint8Array(Buffer.from(s.replace(/\s+/g, ''), 'hex'));

test('X25519: RFC 7748 section 5.2 first vector', () => {
  const out = dh(unhex('a546e36bf0527c9d3b16154b82465edd62144c0ac1fc5a18506a2244ba449ac4'), unhex('e6db6867583030db3594c1a424b15f7c726624ec26b3353b10a903a6d0ab1c4c'));
  assert.equal(hex(out!), 'c3da55379de9c6908e94ea4df28d084f32eccf03491c71f754b4075577a28552');
});

test('X25519: RFC 7748 section 6.1 Alice and Bob', () => {
  const alice = unhex('77076d0a7318a57d3c16c17251b26645df4c2f87ebc0992ab177fba51db92c2a');
  const bob = unhex('5dab087e624a8a4b79e17f8b83800ee66f3bb1292618b6fd1c2f8b27ff88e0eb');
  assert.equal(hex(publicKeyOf(alice)), '8520f0098930a754748b7ddcb43ef75a0dbf3a0d26381af4eba4a98eaa9b4e6a');
  assert.equal(hex(publicKeyOf(bob)), 'de9edb7d7b7dc1b4d35b61c2ece435373f8343c85b78674dadfc7e146f882b4f');
  const shared = '4a5d9d5ba4ce2de1728e3bf480350f25e07e21c947d19e3376f09b3c1e161742';
  assert.equal(hex(dh(alice, publicKeyOf(bob))!), shared);
  assert.equal(hex(dh(bob, publicKeyOf(alice))!), shared);
});

test('X25519: a low-order point or a wrong length gives null, not a zero secret or a throw', () => {
  const mine = generateKeyPair();
  assert.equal(dh(mine.privateKey, new Uint8Array(32)), null); // u = 0
  assert.equal(dh(mine.privateKey, unhex('0100000000000000000000000000000000000000000000000000000000000000')), null); // u = 1
  assert.equal(dh(mine.privateKey, new Uint8Array(31)), null);
  assert.equal(dh(new Uint8Array(5), mine.publicKey), null);
});

test('ChaCha20-Poly1305: RFC 8439 section 2.8.2', () => {
  const plain = new TextEncoder().encode("Ladies and Gentlemen of the class of '99: If I could offer you only one tip for the future, sunscreen would be it.");
  const key = unhex('808182838485868788898a8b8c8d8e8f909192939495969798999a9b9c9d9e9f');
  const nonce = unhex('070000004041424344454647');
  const ad = unhex('50515253c0c1c2c3c4c5c6c7');
  const out = new Uint8Array(plain.length + 16);
  assert.equal(sealWithNonce(key, nonce, ad, plain, 0, plain.length, out, 0), plain.length + 16);
  assert.equal(hex(out), [
    'd31a8d34648e60db7b86afbc53ef7ec2a4aded51296e08fea9e2b5a736ee62d63dbea45e8ca9671282fafb69da92728b',
    '1a71de0a9e060b2905d6a5b67ecd3b3692ddbd7f2d778b8c9803aee328091b58fab324e4fad675945585808b4831d7bc',
    '3ff4def08e4b7a9de576d26586cec64b6116',
    '1ae10b594f09e26a7e902ecbd0600691',
  ].join(''));
});

test('ChaCha20-Poly1305 with the Noise counter nonce: round trip, and any flipped bit fails', () => {
  assert.equal(hex(writeNonce(new Uint8Array(12), 0x0102030405)), '000000000504030201000000');
  const key = generateKeyPair().privateKey;
  const box = seal(key, 7, Uint8Array.of(1, 2), Uint8Array.of(9, 8, 7));
  assert.deepEqual(open(key, 7, Uint8Array.of(1, 2), box), Uint8Array.of(9, 8, 7));
  assert.equal(open(key, 8, Uint8Array.of(1, 2), box), null);
  assert.equal(open(key, 7, Uint8Array.of(1, 3), box), null);
  for (let bit = 0; bit < box.length * 8; bit++) {
    const bad = new Uint8Array(box);
    bad[bit >> 3]! ^= 1 << (bit & 7);
    assert.equal(open(key, 7, Uint8Array.of(1, 2), bad), null);
  }
  assert.equal(open(key, 7, new Uint8Array(0), new Uint8Array(15)), null);
});

test('a generated key pair: its public key is X25519(private, 9), and two pairs agree on their DH', () => {
  const a = generateKeyPair();
  const b = generateKeyPair();
  assert.deepEqual(a.publicKey, publicKeyOf(new Uint8Array(a.privateKey)));
  assert.notDeepEqual(a.publicKey, b.publicKey);
  assert.deepEqual(dh(a.privateKey, b.publicKey), dh(b.privateKey, a.publicKey));
});

test('BLAKE2s-256: RFC 7693 "abc" and the empty message', () => {
  assert.equal(hex(hash(new TextEncoder().encode('abc'))), '508c5e8c327c14e2e1a72ba34eeb452f37458b209ed63a294d999b4c86675982');
  assert.equal(hex(hash(new Uint8Array(0))), '69217a3079908094e11121d042354a7c1f55b6482ca1a51e1b250dfd1ed0eef9');
  assert.equal(hex(hash(Uint8Array.of(1, 2), Uint8Array.of(3))), hex(hash(Uint8Array.of(1, 2, 3))));
});

test('equal is false for different lengths and contents, true for the same octets', () => {
  assert.equal(equal(Uint8Array.of(1, 2), Uint8Array.of(1, 2)), true);
  assert.equal(equal(Uint8Array.of(1, 2), Uint8Array.of(1, 3)), false);
  assert.equal(equal(Uint8Array.of(1, 2), Uint8Array.of(1)), false);
});

test('keys print and parse as wg does (base64, 44 characters) and bad text is refused', () => {
  const pair = generateKeyPair();
  const text = formatKey(pair.publicKey);
  assert.equal(text.length, 44);
  assert.deepEqual(parseKey(text), pair.publicKey);
  assert.deepEqual(parseKey(` ${text}\n`), pair.publicKey);
  assert.equal(typeof parseKey(text.slice(1)), 'string');
  assert.equal(typeof parseKey('not a key'), 'string');
  assert.equal(typeof parseKey(`${text.slice(0, 42)}B=`), 'string'); // non-canonical last character
  assert.equal(hex(publicKeyOf(pair.privateKey)), hex(pair.publicKey));
});
