// The handshake's seal() and open() through the addon's batched AEAD (useAead, as msnld sets it up
// in src/daemon/aead.ts) against node:crypto's: same octets for every length a handshake field has
// and more, the counter's high word, a forged box refused, and the fall-back without it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { open, seal, TAG_SIZE, useAead } from '../../src/crypto/primitives.js';
import { useNativeHandshake, useNodeCryptoHandshake } from '../../src/daemon/aead.js';
import { loadNative } from '../../src/tun/native.js';

const addon = loadNative();
const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');
const random = (n: number): Uint8Array => new Uint8Array(randomBytes(n));
const native = { seal: addon.aeadSeal!, open: addon.aeadOpen! };

test('seal and open through the addon give node:crypto\'s octets, both ways', () => {
  for (const length of [0, 1, 12, 16, 32, 48, 64, 65, 300]) {
    for (const counter of [0, 1, 0x1_0000_0001]) {
      const key = random(32);
      const ad = random(32);
      const plain = random(length);
      const reference = seal(key, counter, ad, plain); // node:crypto: useAead not set yet
      try {
        useAead(native);
        const box = seal(key, counter, ad, plain);
        assert.equal(hex(box), hex(reference));
        assert.equal(box.length, length + TAG_SIZE);
        assert.equal(hex(open(key, counter, ad, box)!), hex(plain));
        assert.equal(open(key, counter + 1, ad, box), null, 'another counter');
        const forged = new Uint8Array(box);
        forged[forged.length - 1]! ^= 1;
        assert.equal(open(key, counter, ad, forged), null, 'a forged tag');
        assert.equal(open(key, counter, random(32), box), null, 'another AD');
        assert.equal(open(key, counter, ad, box.subarray(0, TAG_SIZE - 1)), null, 'shorter than a tag');
      } finally {
        useAead(null);
      }
      assert.equal(hex(open(key, counter, ad, reference)!), hex(plain));
    }
  }
});

test('the inputs are left as they were', () => {
  const key = random(32);
  const ad = random(32);
  const plain = random(48);
  const copies = [key, ad, plain].map(hex);
  try {
    useAead(native);
    const box = seal(key, 7, ad, plain);
    const boxCopy = hex(box);
    open(key, 7, ad, box);
    assert.deepEqual([key, ad, plain].map(hex), copies);
    assert.equal(hex(box), boxCopy);
  } finally {
    useAead(null);
  }
});

test('an implementation that throws or refuses: seal falls back to node:crypto, open refuses', () => {
  const key = random(32);
  const ad = random(32);
  const plain = random(20);
  const reference = seal(key, 3, ad, plain);
  try {
    useAead({ seal: () => { throw new TypeError('no'); }, open: () => { throw new TypeError('no'); } });
    assert.equal(hex(seal(key, 3, ad, plain)), hex(reference));
    assert.equal(hex(open(key, 3, ad, reference)!), hex(plain), 'a throw: node:crypto decides');
    useAead({ seal: () => 1, open: (_k, _b, desc) => { desc[8] = 0xffffffff; return 1; } });
    assert.equal(hex(seal(key, 3, ad, plain)), hex(reference), 'a seal that wrote nothing');
    assert.equal(open(key, 3, ad, reference), null, 'AEAD_FAILED is a refusal');
  } finally {
    useAead(null);
  }
});

test('msnld\'s set-up (useNativeHandshake) routes seal through the addon', () => {
  const key = random(32);
  const ad = random(32);
  const plain = random(48);
  const reference = seal(key, 9, ad, plain);
  let calls = 0;
  try {
    useNativeHandshake();
    assert.equal(hex(seal(key, 9, ad, plain)), hex(reference));
    useAead({ seal: (k, b, d, c) => { calls++; return native.seal(k, b, d, c); }, open: native.open });
    seal(key, 9, ad, plain);
    assert.equal(calls, 1);
  } finally {
    useNodeCryptoHandshake();
  }
});
