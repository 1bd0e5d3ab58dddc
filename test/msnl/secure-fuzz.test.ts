// 100 000 mutated handshake and sealed frames, some with a recomputed valid mac1 (an attacker
// knows the public key), from many sources, into both ends of a live keyed connection: no throw,
// no packet delivered, nothing larger than what provoked it sent, and no state growth. b opens
// sealed frames in batches (as msnld does), a one at a time.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { MemoryHub } from '../../src/msdl/memory.js';
import { randomUnit, seededRandom } from '../../src/base/random.js';
import { mac, MAC_SIZE, generateKeyPair } from '../../src/crypto/primitives.js';
import { mac1Key } from '../../src/crypto/cookie.js';
import { DATA_HEADER_SIZE } from '../../src/msnl/constants.js';
import { SecureType } from '../../src/msnl/secure-wire.js';
import { FakeClock, makeNode, run } from './harness.js';

const A = 0x80e80001;
const B = 0x80e80002;

test('secure fuzz: 100000 mutated handshake and data frames; no crash, no delivery, no state growth', () => {
  const clock = new FakeClock();
  const hub = new MemoryHub({ clock, seed: 5, delayMs: 2 });
  const ka = generateKeyPair();
  const kb = generateKeyPair();
  const a = makeNode(hub, clock, 'a', A, 1, undefined, { identity: ka, capture: true, wallClock: () => clock.t, peerKeyOf: (x) => (x === B ? kb.publicKey : undefined) });
  const tasks: (() => void)[] = [];
  const drain = (): void => {
    for (let k = 0; k < 100 && tasks.length > 0; k++) for (const task of tasks.splice(0)) task();
  };
  const b = makeNode(hub, clock, 'b', B, 2, undefined, { identity: kb, capture: true, wallClock: () => clock.t, scheduleSeals: (flush) => tasks.push(flush), peerKeyOf: (x) => (x === A ? ka.publicKey : undefined) });
  b.ep.listen(0x800);
  a.ep.connect({ remoteAddress: B, remotePort: 0x800, localPort: 0x800, ipa: 1, link: hub.peer('b') });
  assert.ok(run(hub, clock, [a, b], () => (drain(), a.rec.connected.length === 1), 2000));
  const aConn = a.rec.connected[0]!.conn.connId;
  const bConn = b.rec.connected[0]!.conn.connId;
  const buf = new Uint8Array(DATA_HEADER_SIZE + 300);
  a.ep.send(aConn, buf, DATA_HEADER_SIZE, 300);
  b.ep.send(bConn, buf, DATA_HEADER_SIZE, 300);
  assert.ok(run(hub, clock, [a, b], () => (drain(), a.rec.data.length === 1 && b.rec.data.length === 1), 1000));
  // Nothing left in flight: a captured frame raced ahead of its original would be a fresh frame
  // (it authenticates, and moves the peer address until the peer's next frame: see msnl(7) CAVEATS).
  assert.ok(run(hub, clock, [a, b], () => (drain(), hub.inFlight === 0), 1000));
  const corpus = [...a.sent, ...b.sent].map((d) => d.bytes).filter((x) => x[1]! >= SecureType.HANDSHAKE_INIT);
  assert.ok(corpus.some((x) => x[1] === SecureType.HANDSHAKE_INIT) && corpus.some((x) => x[1] === SecureType.SEALED));

  const stateBefore = [a.ep.secureStateSize(), b.ep.secureStateSize()];
  const dataBefore = [a.rec.data.length, b.rec.data.length];
  const sentBefore = [a.sent.length, b.sent.length];
  const mac1ForB = mac1Key(kb.publicKey);
  const mac1ForA = mac1Key(ka.publicKey);
  const rnd = seededRandom(99);
  const pick = (n: number): number => Math.floor(randomUnit(rnd) * n);
  let largestIn = 0;
  for (let i = 0; i < 100_000; i++) {
    const base = corpus[pick(corpus.length)]!;
    let m: Uint8Array;
    switch (pick(5)) {
      case 0: m = base.slice(0, pick(base.length + 1)); break;
      case 1: m = new Uint8Array(pick(300)).map(() => pick(256)); if (m.length > 1) m[1] = 11 + pick(4); if (m.length > 0) m[0] = 1; break;
      case 2: { m = new Uint8Array(base.length + 1 + pick(40)); m.set(base); break; }
      default: {
        m = new Uint8Array(base);
        for (let k = 1 + pick(4); k > 0; k--) m[pick(m.length)]! ^= 1 << pick(8);
      }
    }
    const toB = pick(2) === 0;
    if ((m[1] === SecureType.HANDSHAKE_INIT || m[1] === SecureType.HANDSHAKE_RESPONSE) && m.length > 2 * MAC_SIZE && pick(10) === 0) {
      const at = m.length - 2 * MAC_SIZE;
      m.set(mac(toB ? mac1ForB : mac1ForA, m.subarray(0, at)), at); // a valid mac1: the Noise layer must refuse it
    }
    largestIn = Math.max(largestIn, m.length);
    const from = hub.peer(`x${pick(50)}`);
    (toB ? b : a).ep.receive(m, from);
    if (i % 37 === 0) drain();
    if (i % 1000 === 0) clock.t += 7;
  }
  drain();
  assert.deepEqual([a.rec.data.length, b.rec.data.length], dataBefore, 'nothing delivered');
  assert.equal(a.ep.connections().length, 1);
  assert.equal(b.ep.connections().length, 1);
  assert.equal(b.rec.incoming.length, 1, 'no new call');
  // What the fuzzers got back: cookie replies (smaller than an initiation), or the historic
  // rate-limited 8-octet reset when a flipped type byte made a plain frame for no connection.
  let answers = 0;
  for (const d of [...a.sent.slice(sentBefore[0]), ...b.sent.slice(sentBefore[1])]) {
    if (!d.to.name.startsWith('x')) continue;
    answers++;
    assert.ok(d.bytes[1] === SecureType.COOKIE_REPLY || d.bytes[1] === 5, `answered with type ${d.bytes[1]}`);
    assert.ok(d.bytes.length <= 64);
  }
  assert.ok(answers < 2000, `${answers} answers`);
  const after = [a.ep.secureStateSize(), b.ep.secureStateSize()];
  assert.ok(after[0]! <= stateBefore[0]! + 50 && after[1]! <= stateBefore[1]! + 50, `state ${stateBefore} -> ${after} (sources bounded by the 50 fuzzing addresses)`);
  // The connection still carries data.
  a.ep.send(aConn, buf, DATA_HEADER_SIZE, 300);
  assert.ok(run(hub, clock, [a, b], () => (drain(), b.rec.data.length === dataBefore[1]! + 1), 1000));
  assert.ok(largestIn > 0);
});
