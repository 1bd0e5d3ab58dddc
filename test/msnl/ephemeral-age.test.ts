// HandshakeKeys (src/msnl/secure-keys.ts): an ephemeral key pair made ahead (the spare, the start
// of an initiation, the ephemeral of a response) goes into a handshake message only while younger
// than EPHEMERAL_MAX_AGE_MS; an older one is dropped, zeroed, and made again. The clock is a fake,
// and every key pair is recorded with the time it was made.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { generateKeyPair, type KeyPair } from '../../src/crypto/primitives.js';
import { EPHEMERAL_MAX_AGE_MS, EPHEMERAL_RENEW_MS, HandshakeKeys } from '../../src/msnl/secure-keys.js';

const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');

interface Rig {
  readonly keys: HandshakeKeys;
  /** Sets the fake clock (ms). */
  at(ms: number): void;
  /** Runs the work scheduled after the turn. */
  runIdle(): void;
  readonly idle: (() => void)[];
  /** When the key pair with this public key was made, or undefined when it was not made here. */
  madeAt(pair: KeyPair): number | undefined;
  /** Every key pair made, with its time. */
  readonly made: readonly { readonly pair: KeyPair; readonly at: number }[];
  /** The timer runs asked for (scheduleAt), in order. */
  readonly scheduled: number[];
  readonly counters: { ephemeralsDropped: number };
}

/** Keys with a host key and one configured peer, everything made ahead at time 0. */
function rig(): Rig & { peerKey: Uint8Array } {
  let now = 0;
  const idle: (() => void)[] = [];
  const made: { pair: KeyPair; at: number }[] = [];
  const scheduled: number[] = [];
  const counters = { ephemeralsDropped: 0 };
  const keys = new HandshakeKeys({
    scheduleAt: (at) => void scheduled.push(at),
    counters,
    clock: { now: () => now },
    wallClockMs: () => 1_796_000_000_000 + now,
    scheduleIdle: (work) => void idle.push(work),
    newKeyPair: () => {
      const pair = generateKeyPair();
      made.push({ pair, at: now });
      return pair;
    },
  });
  const peerKey = generateKeyPair().publicKey;
  keys.setIdentity(generateKeyPair());
  keys.preparePeers([peerKey]);
  const runIdle = (): void => {
    for (let i = 0; i < 100 && idle.length > 0; i++) idle.shift()!();
  };
  runIdle();
  return {
    keys,
    peerKey,
    idle,
    made,
    scheduled,
    counters,
    at: (ms) => void (now = ms),
    runIdle,
    madeAt: (pair) => made.find((m) => hex(m.pair.publicKey) === hex(pair.publicKey))?.at,
  };
}

test('an ephemeral made ahead is used while younger than EPHEMERAL_MAX_AGE_MS', () => {
  const r = rig();
  const peer = r.keys.peer(r.peerKey);
  r.at(EPHEMERAL_MAX_AGE_MS - 1);
  const start = r.keys.message1Start(peer)!;
  assert.equal(r.madeAt(start.ephemeral), 0, 'the initiation start made at 0');
  const reply = r.keys.replyEphemeral(peer);
  assert.ok(reply.shared !== null, 'the response ephemeral made ahead, with its DH');
  assert.equal(r.madeAt(reply.ephemeral), 0);
  assert.equal(r.madeAt(r.keys.ephemeral()), 0, 'the spare made at 0');
});

test('an ephemeral made ahead EPHEMERAL_MAX_AGE_MS ago or more is never used: each message gets one made now', () => {
  const r = rig();
  const peer = r.keys.peer(r.peerKey);
  const early = r.made.filter((m) => m.at === 0);
  assert.equal(early.length, 3, 'made ahead: the spare, an initiation start and a response ephemeral');
  const now = EPHEMERAL_MAX_AGE_MS;
  r.at(now);
  const start = r.keys.message1Start(peer)!;
  assert.equal(r.madeAt(start.ephemeral), now, 'not the start made at 0, nor the spare made at 0');
  const reply = r.keys.replyEphemeral(peer);
  assert.equal(reply.shared, null, 'not the response ephemeral made ahead');
  assert.equal(r.madeAt(reply.ephemeral), now);
  for (const m of early) {
    assert.ok(m.pair.privateKey.every((octet) => octet === 0), 'a dropped ephemeral private key is zeroed');
    assert.notEqual(hex(m.pair.publicKey), hex(start.ephemeral.publicKey));
    assert.notEqual(hex(m.pair.publicKey), hex(reply.ephemeral.publicKey));
  }
  r.runIdle();
  assert.equal(r.madeAt(r.keys.message1Start(peer)!.ephemeral), now, 'made again after the turn, and young');
});

test('dropStale renews what was made ahead EPHEMERAL_RENEW_MS ago and has it made again after the turn, so a later call finds fresh ones', () => {
  const r = rig();
  const peer = r.keys.peer(r.peerKey);
  const size = r.keys.size;
  assert.equal(r.keys.renewAt(), EPHEMERAL_RENEW_MS, 'due when the oldest made ahead (at 0) is EPHEMERAL_RENEW_MS old');
  assert.ok(EPHEMERAL_RENEW_MS < EPHEMERAL_MAX_AGE_MS, 'renewed before a taker would refuse it');
  r.keys.dropStale(EPHEMERAL_RENEW_MS - 1);
  assert.equal(r.keys.size, size, 'nothing is old enough yet');
  assert.equal(r.idle.length, 0);
  assert.equal(r.counters.ephemeralsDropped, 0);
  const later = EPHEMERAL_RENEW_MS + 5_000;
  r.at(later);
  r.keys.dropStale(later);
  assert.equal(r.keys.size, size - 2, 'the initiation start and the response ephemeral are dropped');
  assert.equal(r.counters.ephemeralsDropped, 3, 'with the spare: three dropped unused');
  assert.ok(r.made.filter((m) => m.at === 0).every((m) => m.pair.privateKey.every((octet) => octet === 0)), 'their private keys and the spare\'s are zeroed');
  assert.ok(r.idle.length > 0, 'made again after the turn');
  r.runIdle();
  r.keys.makeSpare();
  assert.equal(r.keys.size, size);
  assert.equal(r.keys.renewAt(), later + EPHEMERAL_RENEW_MS);
  assert.equal(r.scheduled.at(-1), later + EPHEMERAL_RENEW_MS, 'the next timer run asked for');
  r.at(later + 1000);
  const reply = r.keys.replyEphemeral(peer);
  assert.ok(reply.shared !== null, 'made ahead again, with its DH');
  assert.equal(r.madeAt(reply.ephemeral), later);
  assert.equal(r.madeAt(r.keys.message1Start(peer)!.ephemeral), later);
  assert.equal(r.madeAt(r.keys.ephemeral()), later, 'a new spare');
});

test('what was made within 10 s of the oldest is renewed with it (one timer run), what is younger is kept', () => {
  const r = rig(); // the spare, a start and a response ephemeral made at 0
  r.at(9_000);
  const peer = r.keys.peer(r.peerKey);
  r.keys.message1Start(peer); // taken: another start made at 9 s after the turn
  r.runIdle();
  r.at(30_000);
  r.keys.replyEphemeral(peer); // another response ephemeral made at 30 s
  r.runIdle();
  r.at(EPHEMERAL_RENEW_MS);
  const before = r.counters.ephemeralsDropped;
  r.keys.dropStale(EPHEMERAL_RENEW_MS);
  assert.equal(r.counters.ephemeralsDropped - before, 2, 'the spare (0 s) and the start (9 s); not the response ephemeral (30 s)');
  assert.equal(r.keys.renewAt(), 30_000 + EPHEMERAL_RENEW_MS);
});

test('a taker refusing one too old counts it', () => {
  const r = rig();
  r.at(EPHEMERAL_MAX_AGE_MS);
  const peer = r.keys.peer(r.peerKey);
  r.keys.message1Start(peer);
  r.keys.replyEphemeral(peer);
  r.keys.ephemeral();
  assert.equal(r.counters.ephemeralsDropped, 3);
});
