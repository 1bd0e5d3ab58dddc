import { test } from 'node:test';
import assert from 'node:assert/strict';
import { COOKIE_SECRET_MS, CookieChecker, CookieGenerator } from '../../src/crypto/cookie.js';
import { generateKeyPair } from '../../src/crypto/primitives.js';

test('mac1 proves knowledge of the receiver key; mac2 needs the cookie the receiver gave this source', () => {
  let now = 1000;
  const clock = (): number => now;
  const responder = generateKeyPair();
  const checker = new CookieChecker(responder.publicKey, clock);
  const gen = new CookieGenerator(responder.publicKey, clock);
  const source = Uint8Array.of(192, 0, 2, 1, 0x1f, 0x40);
  const msg = new Uint8Array(100).fill(7);
  gen.addMacs(msg);
  assert.equal(checker.checkMac1(msg), true);
  assert.equal(checker.checkMac2(msg, source), false, 'no cookie yet');
  assert.equal(new CookieChecker(generateKeyPair().publicKey, clock).checkMac1(msg), false, 'another key');
  const bad = new Uint8Array(msg);
  bad[3]! ^= 1;
  assert.equal(checker.checkMac1(bad), false);
  assert.equal(checker.checkMac1(new Uint8Array(10)), false);

  const reply = checker.makeReply(msg, source);
  assert.equal(reply.nonce.length + reply.sealed.length, 56);
  assert.equal(gen.consumeReply(reply.nonce, reply.sealed), true);
  const again = new Uint8Array(100).fill(7);
  gen.addMacs(again);
  assert.equal(checker.checkMac1(again), true);
  assert.equal(checker.checkMac2(again, source), true);
  assert.equal(checker.checkMac2(again, Uint8Array.of(192, 0, 2, 9, 0x1f, 0x40)), false, 'another source');
  now += COOKIE_SECRET_MS + 1;
  assert.equal(checker.checkMac2(again, source), false, 'the secret rotated');
});

test('a cookie reply that does not answer our last message is refused', () => {
  const clock = (): number => 0;
  const responder = generateKeyPair();
  const checker = new CookieChecker(responder.publicKey, clock);
  const gen = new CookieGenerator(responder.publicKey, clock);
  const other = new Uint8Array(80).fill(1);
  new CookieGenerator(responder.publicKey, clock).addMacs(other);
  const reply = checker.makeReply(other, Uint8Array.of(1));
  assert.equal(gen.consumeReply(reply.nonce, reply.sealed), false, 'nothing sent yet');
  const mine = new Uint8Array(80).fill(2);
  gen.addMacs(mine);
  assert.equal(gen.consumeReply(reply.nonce, reply.sealed), false, 'answers another message');
});
