// The Noise IK handshake against the published vector for Noise_IK_25519_ChaChaPoly_BLAKE2s
// (cacophony's test vectors, the set other Noise libraries test against), then two instances
// shaking hands with fresh keys.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { finishMessage1, initialState, readMessage1, readMessage2, startMessage1, writeMessage1, writeMessage2 } from '../../src/crypto/noise.js';
import { dh, generateKeyPair, keyPairOf, open, seal } from '../../src/crypto/primitives.js';

const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');
const unhex = (s: string): Uint8Array => new Uint8Array(Buffer.from(s, 'hex'));

const VECTOR = {
  prologue: '4a6f686e2047616c74',
  initStatic: 'e61ef9919cde45dd5f82166404bd08e38bceb5dfdfded0a34c8df7ed542214d1',
  initEphemeral: '893e28b9dc6ca8d611ab664754b8ceb7bac5117349a4439a6b0569da977c464a',
  respStatic: '4a3acbfdb163dec651dfa3194dece676d437029c62a408b4c5ea9114246e4893',
  respEphemeral: 'bbdb4cdbd309f1a1f2e1456967fe288cadd6f712d65dc7b7793d5e63da6b375b',
  handshakeHash: '48f3cb8bc9319da4ba1e9933991b1c4ed4034f1f126a76d3a1fbcfd7f94248d4',
  messages: [
    ['4c756477696720766f6e204d69736573', 'ca35def5ae56cec33dc2036731ab14896bc4c75dbb07a61f879f8e3afa4c79440b03ddc7aac5123d06a1b23b71670e32e76c28239a7ca4ac8f784de7e44c1adbfc6e83fef7352a58d9d56157400c0a737b1d171ce368229c7b752ac25b8faf4eca690f6d896f543be02c996ab2b86b76'],
    ['4d757272617920526f746862617264', '95ebc60d2b1fa672c1f46a8aa265ef51bfe38e7ccb39ec5be34069f144808843d9b5a8927f0ac9655ef76833bc7e5561f42e691ac8404efd6fbd6308b6a27c'],
    ['462e20412e20486179656b', '2c256ed08fcd08c2980f954ee4beaccb61c9581340f5dd2fd1cf3b'],
    ['4361726c204d656e676572', 'd6033f70eee20945c7c9dba304e397ee3b284ff5e00fd9efb095d3'],
    ['4a65616e2d426170746973746520536179', 'a9c068ca5d8babf72560652d8e851adbfac35c8a66e810d560863173e96adf4cfe'],
    ['457567656e2042f6686d20766f6e2042617765726b', '2a09d8f459e5927e40fdd2eddc99bdafb04e13a26f145cb5cfe9e6ba34c94331ebc17d5156'],
  ],
} as const;

test('Noise_IK_25519_ChaChaPoly_BLAKE2s: the published vector, both directions and transport', () => {
  const si = keyPairOf(unhex(VECTOR.initStatic));
  const sr = keyPairOf(unhex(VECTOR.respStatic));
  const start = initialState(unhex(VECTOR.prologue), sr.publicKey);
  const [m0, m1, ...transport] = VECTOR.messages;
  const w1 = writeMessage1(start, si, sr.publicKey, keyPairOf(unhex(VECTOR.initEphemeral)), unhex(m0[0]));
  assert.ok(w1);
  assert.equal(hex(w1.message), m0[1]);
  const r1 = readMessage1(start, sr, w1.message);
  assert.ok(r1);
  assert.equal(hex(r1.payload), m0[0]);
  assert.deepEqual(r1.state.remoteStatic, si.publicKey);
  const w2 = writeMessage2(r1.state, keyPairOf(unhex(VECTOR.respEphemeral)), unhex(m1[0]));
  assert.ok(w2);
  assert.equal(hex(w2.message), m1[1]);
  const r2 = readMessage2(w1.state, w2.message);
  assert.ok(r2);
  assert.equal(hex(r2.payload), m1[0]);
  assert.equal(hex(r2.keys.handshakeHash), VECTOR.handshakeHash);
  assert.equal(hex(w2.keys.handshakeHash), VECTOR.handshakeHash);
  // Transport: the initiator's send key is the responder's receive key and the other way round.
  const counters = [0, 0];
  transport.forEach(([payload, ciphertext], i) => {
    const fromInitiator = i % 2 === 0;
    const key = fromInitiator ? r2.keys.send : w2.keys.send;
    const receiveKey = fromInitiator ? w2.keys.receive : r2.keys.receive;
    const n = counters[i % 2]!++;
    const box = seal(key, n, new Uint8Array(0), unhex(payload));
    assert.equal(hex(box), ciphertext);
    assert.equal(hex(open(receiveKey, n, new Uint8Array(0), box)!), payload);
  });
});

test('a handshake between two fresh instances; a wrong responder key or a flipped bit fails cleanly', () => {
  const prologue = new TextEncoder().encode('test');
  const a = generateKeyPair();
  const b = generateKeyPair();
  const start = initialState(prologue, b.publicKey);
  const w1 = writeMessage1(start, a, b.publicKey, generateKeyPair(), Uint8Array.of(1, 2, 3));
  assert.ok(w1);
  assert.equal(readMessage1(initialState(prologue, a.publicKey), a, w1.message), null); // not for a
  for (let i = 0; i < w1.message.length; i += 7) {
    const bad: Uint8Array = new Uint8Array(w1.message);
    bad[i]! ^= 0x40;
    assert.equal(readMessage1(start, b, bad), null, `flip at ${i}`);
  }
  assert.equal(readMessage1(start, b, w1.message.subarray(0, 50)), null);
  const r1 = readMessage1(start, b, w1.message)!;
  const w2 = writeMessage2(r1.state, generateKeyPair(), new Uint8Array(0))!;
  const r2 = readMessage2(w1.state, w2.message)!;
  assert.deepEqual(r2.keys.send, w2.keys.receive);
  assert.deepEqual(r2.keys.receive, w2.keys.send);
  const tampered: Uint8Array = new Uint8Array(w2.message);
  tampered[40]! ^= 1;
  assert.equal(readMessage2(w1.state, tampered), null);
});

test('a precomputed static-static DH gives the same messages and keys; a wrong one fails to authenticate', () => {
  const prologue = new TextEncoder().encode('test');
  const a = generateKeyPair();
  const b = generateKeyPair();
  const e = generateKeyPair();
  const start = initialState(prologue, b.publicKey);
  const ss = dh(a.privateKey, b.publicKey)!;
  assert.deepEqual(dh(b.privateKey, a.publicKey), ss, 'both ends compute the same value');
  const computed = writeMessage1(start, a, b.publicKey, e, Uint8Array.of(9))!;
  const given = writeMessage1(start, a, b.publicKey, e, Uint8Array.of(9), ss)!;
  assert.deepEqual(given.message, computed.message);
  const asked: Uint8Array[] = [];
  const r1 = readMessage1(start, b, given.message, (rs) => (asked.push(rs), ss))!;
  assert.deepEqual(asked, [a.publicKey], 'asked once, for the initiator key');
  assert.deepEqual(r1.state.symmetric.h, readMessage1(start, b, given.message, () => null)!.state.symmetric.h, 'null: computed here, same result');
  const w2 = writeMessage2(r1.state, generateKeyPair(), new Uint8Array(0))!;
  assert.deepEqual(readMessage2(given.state, w2.message)!.keys.send, w2.keys.receive);
  assert.equal(readMessage1(start, b, given.message, () => new Uint8Array(32).fill(7)), null, 'a wrong shared secret does not authenticate');
});

test('message 1 made ahead of its payload (startMessage1, then finishMessage1) and message 2 with DH(e, rs) made ahead are the published messages; the start is left as it was', () => {
  const si = keyPairOf(unhex(VECTOR.initStatic));
  const sr = keyPairOf(unhex(VECTOR.respStatic));
  const start = initialState(unhex(VECTOR.prologue), sr.publicKey);
  const [m0, m1] = VECTOR.messages;
  const begun = startMessage1(start, si, sr.publicKey, keyPairOf(unhex(VECTOR.initEphemeral)), dh(si.privateKey, sr.publicKey))!;
  assert.equal(begun.head.length, 32 + 32 + 16);
  const w1 = finishMessage1(begun, unhex(m0[0]));
  assert.equal(hex(w1.message), m0[1]);
  assert.equal(hex(finishMessage1(begun, unhex(m0[0])).message), m0[1], 'finishing does not move the start: taking it once is the caller\'s rule');
  const r1 = readMessage1(start, sr, w1.message)!;
  const w2 = writeMessage2(r1.state, keyPairOf(unhex(VECTOR.respEphemeral)), unhex(m1[0]))!;
  const r2 = readMessage2(w1.state, w2.message)!;
  assert.equal(hex(r2.keys.handshakeHash), VECTOR.handshakeHash);
  assert.equal(startMessage1(start, si, new Uint8Array(32), keyPairOf(unhex(VECTOR.initEphemeral))), null, 'a low-order responder key');
  // Message 2 with DH(e, rs) made ahead (a configured initiator's) is the published one too.
  const re = keyPairOf(unhex(VECTOR.respEphemeral));
  const given = writeMessage2(r1.state, re, unhex(m1[0]), dh(re.privateKey, si.publicKey))!;
  assert.equal(hex(given.message), m1[1]);
  assert.deepEqual(given.keys.send, w2.keys.send);
  assert.notEqual(hex(writeMessage2(r1.state, re, unhex(m1[0]), new Uint8Array(32).fill(7))!.message), m1[1], 'a wrong one gives another message, which the initiator cannot read');
});
