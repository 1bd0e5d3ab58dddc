// HandshakeKeys (src/msnl/secure-keys.ts): the starts of initiations and the ephemerals of
// responses made ahead for configured peers are each taken once, made again after the turn, and
// thrown away when the host key or the configured peers change.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { finishMessage1, readMessage1 } from '../../src/crypto/noise.js';
import { dh, generateKeyPair } from '../../src/crypto/primitives.js';
import { HandshakeKeys } from '../../src/msnl/secure-keys.js';

const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');

function keys(): { keys: HandshakeKeys; idle: (() => void)[]; runIdle: () => void } {
  const idle: (() => void)[] = [];
  const k = new HandshakeKeys({ clock: { now: () => 0 }, wallClockMs: () => 1_796_000_000_000, scheduleIdle: (work) => void idle.push(work) });
  return { keys: k, idle, runIdle: () => { for (let i = 0; i < 100 && idle.length > 0; i++) idle.shift()!(); } };
}

test('a prepared initiation start is taken once; the next one has a fresh ephemeral and is made again after the turn', () => {
  const { keys: k, idle, runIdle } = keys();
  const me = generateKeyPair();
  const peerKeys = generateKeyPair();
  k.setIdentity(me);
  k.preparePeers([peerKeys.publicKey]);
  runIdle();
  const peer = k.peer(peerKeys.publicKey);
  const sizeReady = k.size;
  const first = k.message1Start(peer)!;
  assert.equal(k.size, sizeReady - 1, 'taken out of the table');
  const second = k.message1Start(peer)!; // before the turn: none ready, made now
  assert.notEqual(hex(second.ephemeral.publicKey), hex(first.ephemeral.publicKey));
  assert.ok(idle.length > 0, 'a new one is scheduled after the turn');
  runIdle();
  assert.equal(k.size, sizeReady, 'made again after the turn');
  const third = k.message1Start(peer)!;
  const seen = new Set([first, second, third].map((s) => hex(s.ephemeral.publicKey)));
  assert.equal(seen.size, 3, 'every initiation has its own ephemeral key');
  // The responder reads an initiation finished from a prepared start.
  const w1 = finishMessage1(first, Uint8Array.of(1, 2, 3));
  const responder = keys().keys;
  responder.setIdentity(peerKeys);
  const read = readMessage1(responder.start!, peerKeys, w1.message);
  assert.ok(read);
  assert.deepEqual(read.payload, Uint8Array.of(1, 2, 3));
  assert.deepEqual(read.state.remoteStatic, me.publicKey);
});

test('prepared starts are thrown away when the host key or the configured peers change; none for a peer no longer configured', () => {
  const { keys: k, runIdle } = keys();
  const first = generateKeyPair();
  const peerKeys = generateKeyPair();
  k.setIdentity(first);
  k.preparePeers([peerKeys.publicKey]);
  runIdle();
  const peer = k.peer(peerKeys.publicKey);
  const withReady = k.size;
  const second = generateKeyPair();
  k.setIdentity(second);
  assert.ok(k.size < withReady, 'the new key drops what the old one made');
  assert.equal(k.message1Start(peer)!.staticKey, second, 'made under the new host key');
  runIdle();
  const sizeBefore = k.size;
  k.preparePeers([]);
  assert.equal(k.size, sizeBefore - 2, 'the configured peers changed: the prepared start and response ephemeral are dropped');
  k.message1Start(peer);
  assert.equal(k.replyEphemeral(peer).shared, null, 'none made ahead: the spare, DH made in the response');
  runIdle();
  assert.equal(k.size, sizeBefore - 2, 'not made again for a peer no longer configured');
  k.setIdentity(null);
  assert.equal(k.message1Start(peer), null, 'no host key: no initiation');
});

test('a prepared response ephemeral comes with DH(it, the peer key), is taken once, and is made again after the turn', () => {
  const { keys: k, runIdle } = keys();
  const peerKeys = generateKeyPair();
  k.setIdentity(generateKeyPair());
  k.preparePeers([peerKeys.publicKey]);
  runIdle();
  const peer = k.peer(peerKeys.publicKey);
  const first = k.replyEphemeral(peer);
  assert.ok(first.shared);
  assert.deepEqual(first.shared, dh(peerKeys.privateKey, first.ephemeral.publicKey), 'DH(e, peer key) as the initiator computes it');
  const second = k.replyEphemeral(peer);
  assert.equal(second.shared, null, 'before the turn: the spare, without');
  assert.notEqual(hex(second.ephemeral.publicKey), hex(first.ephemeral.publicKey));
  runIdle();
  const third = k.replyEphemeral(peer);
  assert.ok(third.shared);
  assert.equal(new Set([first, second, third].map((r) => hex(r.ephemeral.publicKey))).size, 3, 'every response has its own ephemeral key');
});
