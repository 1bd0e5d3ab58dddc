// Acknowledging probes (msnl(7) Probes, code 3): the caller probes, the callee answers and rests,
// both ends stay proven both ways; a historic peer that drops code 3 gets plain probes after the
// first; a partition still takes a connection down; keyed connections seal them alike. Fake clock.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { MemoryHub, type MemoryPeer } from '../../src/msdl/memory.js';
import { MsgType } from '../../src/msnl/constants.js';
import { PeerAcks } from '../../src/msnl/connection.js';
import { ACK_PROBE_CODE, ACK_PROBE_SIZE, ASK_PROBE_CODE, decodeMessage, encodeAckProbe, NO_ACK } from '../../src/msnl/wire.js';
import { generateKeyPair } from '../../src/crypto/primitives.js';
import { FakeClock, makeNode, run, type Node } from './harness.js';

const A = 0x80e80001;
const B = 0x80e80002;

const isHealthProbe = (b: Uint8Array): boolean => b[1] === MsgType.PROBE && (b[3] === 0 || b[3] === ACK_PROBE_CODE || b[3] === ASK_PROBE_CODE);
/** Code 3, or code 4 (an asking probe is an acknowledging one, msnl(7) Probes). */
const acks = (b: Uint8Array): boolean => b[3] === ACK_PROBE_CODE || b[3] === ASK_PROBE_CODE;

/** Makes `node` a historic peer: code-3 probes and replies are dropped as malformed, as the old page said. */
function historic(node: Node): void {
  const receive = node.ep.receive.bind(node.ep);
  node.ep.receive = (bytes: Uint8Array, from: MemoryPeer): void => {
    if ((bytes[1] === MsgType.PROBE || bytes[1] === MsgType.PROBE_REPLY) && bytes[3] === ACK_PROBE_CODE) return;
    receive(bytes, from);
  };
}

function pair(seed: number, bConfig = {}, aExtras = {}, bExtras = {}): { hub: MemoryHub; clock: FakeClock; a: Node; b: Node } {
  const clock = new FakeClock();
  const hub = new MemoryHub({ clock, seed, loss: 0, delayMs: 1 });
  const a = makeNode(hub, clock, 'a', A, seed, {}, { capture: true, ...aExtras });
  const b = makeNode(hub, clock, 'b', B, seed + 1, bConfig, { capture: true, ...bExtras });
  b.ep.listen(0x1234);
  return { hub, clock, a, b };
}

test('the acknowledging probe: 24 octets, nothing acknowledged is hold 0xffffffff and sequence 0; its reply 16 octets of code 3', () => {
  const none = encodeAckProbe(0x22222222, 7, 0x1000, 99, NO_ACK);
  assert.equal(none.length, ACK_PROBE_SIZE);
  assert.equal(Buffer.from(none).toString('hex'), '010800032222222200000007000010000000000' + '0ffffffff');
  const decoded = decodeMessage(encodeAckProbe(0x22222222, 8, 0x2000, 7, 12));
  assert.ok(decoded.ok && decoded.msg.type === MsgType.PROBE && 'acking' in decoded.msg && decoded.msg.ackSeq === 7 && decoded.msg.holdMs === 12, JSON.stringify(decoded));
  assert.equal(decodeMessage(none.subarray(0, 16)).ok, false, 'a code-3 probe of 16 octets is malformed');
  const reply = Uint8Array.from(none.subarray(0, 16));
  reply[1] = MsgType.PROBE_REPLY;
  assert.equal(decodeMessage(reply).ok, true, 'a code-3 reply is 16 octets');
  assert.equal(decodeMessage(Uint8Array.from([...reply, 0, 0, 0, 0, 0, 0, 0, 0])).ok, false, 'and only 16');
});

test('between two hosts that speak them, the caller probes, the callee answers and rests, and both stay up both ways', () => {
  const { hub, clock, a, b } = pair(11);
  const COUNT = 20;
  for (let i = 0; i < COUNT; i++) a.ep.connect({ remoteAddress: B, remotePort: 0x1234, localPort: 0x1000 + i, ipa: 1, link: hub.peer('b') });
  assert.ok(run(hub, clock, [a, b], () => a.rec.connected.length === COUNT, 5000));
  run(hub, clock, [a, b], () => false, 10_000); // first probes, discovery
  for (const n of [a, b]) for (const c of n.ep.connections()) assert.equal(n.ep.findConnection(c.connId)?.peerAcks, PeerAcks.YES, `${n.name} knows its peer speaks code 3`);
  a.sent.length = 0;
  b.sent.length = 0;
  const rested = b.ep.counters.probesRested;
  for (let step = 0; step < 60; step++) {
    run(hub, clock, [a, b], () => false, 500);
    for (const n of [a, b]) for (const c of n.ep.connections()) assert.equal(n.ep.isUp(c.connId), true, `${n.name} up ${clock.t} ms on`);
  }
  const aProbes = a.sent.filter((s) => isHealthProbe(s.bytes));
  const bProbes = b.sent.filter((s) => isHealthProbe(s.bytes));
  const bReplies = b.sent.filter((s) => s.bytes[1] === MsgType.PROBE_REPLY && acks(s.bytes));
  // 30 s at 2 s: 15 probes a connection from the caller, each answered; none from the callee.
  assert.ok(aProbes.length >= 14 * COUNT && aProbes.length <= 16 * COUNT, `${aProbes.length} caller probes`);
  assert.ok(aProbes.every((s) => acks(s.bytes) && s.bytes.length === ACK_PROBE_SIZE), 'all acknowledging');
  assert.equal(bReplies.length, aProbes.length, 'every probe answered with a code-3 or code-4 reply');
  assert.equal(bProbes.length, 0, 'the callee sent no probe of its own');
  assert.ok(b.ep.counters.probesRested - rested >= 14 * COUNT, `the callee rested (${b.ep.counters.probesRested - rested})`);
  for (const n of [a, b]) for (const c of n.ep.connections()) {
    const h = n.ep.health(c.connId)!;
    assert.ok(h.rttMs >= 0 && h.rttMs <= 10, `${n.name} knows the round trip (${h.rttMs})`);
    assert.equal(h.lossRatio, 0);
  }
});

test('resting ends do not hide a partition: both sides go down within the window, and the callee probes again', () => {
  const { hub, clock, a, b } = pair(13);
  a.ep.connect({ remoteAddress: B, remotePort: 0x1234, localPort: 0x1000, ipa: 1, link: hub.peer('b') });
  assert.ok(run(hub, clock, [a, b], () => a.rec.connected.length === 1, 5000));
  run(hub, clock, [a, b], () => false, 10_000);
  const [ca] = a.ep.connections();
  const [cb] = b.ep.connections();
  assert.ok(b.ep.counters.probesRested > 0, 'the callee rests');
  const sent = b.ep.counters.probesSent;
  hub.detach('b');
  run(hub, clock, [a, b], () => false, 8000);
  assert.equal(a.ep.isUp(ca!.connId), false, 'the caller is down 8 s into the partition');
  assert.equal(b.ep.isUp(cb!.connId), false, 'so is the callee');
  assert.ok(b.ep.counters.probesSent > sent, 'the callee probes again once acknowledgements stop');
});

test('a historic peer that drops code 3: the first probe acknowledges, then plain probes; nothing counts as lost, and a new callee keeps probing a caller that never acknowledges', () => {
  // a, new, calls b, historic.
  {
    const { hub, clock, a, b } = pair(17, { probeAcks: false });
    historic(b);
    a.ep.connect({ remoteAddress: B, remotePort: 0x1234, localPort: 0x1000, ipa: 1, link: hub.peer('b') });
    assert.ok(run(hub, clock, [a, b], () => a.rec.connected.length === 1, 5000));
    const [c] = a.ep.connections();
    for (let step = 0; step < 40; step++) {
      run(hub, clock, [a, b], () => false, 500);
      assert.equal(a.ep.isUp(c!.connId), true, `up ${clock.t} ms on`);
    }
    const probes = a.sent.filter((s) => isHealthProbe(s.bytes));
    assert.equal(probes[0]?.bytes[3], ACK_PROBE_CODE, 'the first probe acknowledges');
    assert.ok(probes.length >= 9 && probes.slice(1).every((s) => s.bytes[3] === 0 && s.bytes.length === 16), `then plain probes (${probes.map((s) => s.bytes[3]).join('')})`);
    assert.equal(a.ep.findConnection(c!.connId)?.peerAcks, PeerAcks.NO);
    assert.equal(a.ep.health(c!.connId)?.lossRatio, 0, 'the dropped first probe is not counted as lost');
    for (const cb of b.ep.connections()) assert.equal(b.ep.isUp(cb.connId), true, 'the historic callee is up too');
  }
  // b, historic, calls a, new: a answers plain probes and probes itself (no acknowledgement comes).
  {
    const { hub, clock, a, b } = pair(19, { probeAcks: false });
    historic(b);
    a.ep.listen(0x1234);
    b.ep.connect({ remoteAddress: A, remotePort: 0x1234, localPort: 0x1000, ipa: 1, link: hub.peer('a') });
    assert.ok(run(hub, clock, [a, b], () => b.rec.connected.length === 1, 5000));
    a.sent.length = 0;
    for (let step = 0; step < 40; step++) {
      run(hub, clock, [a, b], () => false, 500);
      for (const c of a.ep.connections()) assert.equal(a.ep.isUp(c.connId), true, `the new callee up ${clock.t} ms on`);
      for (const c of b.ep.connections()) assert.equal(b.ep.isUp(c.connId), true, `the historic caller up ${clock.t} ms on`);
    }
    const probes = a.sent.filter((s) => isHealthProbe(s.bytes));
    assert.ok(probes.length >= 9 && probes.every((s) => s.bytes[3] === 0), `the new callee probes, plainly (${probes.length})`);
    assert.equal(a.ep.counters.probesRested, 0, 'and never rests');
  }
});

test('a caller\'s first acknowledging probe lost on the way: that connection keeps to plain probes, both ends up, nothing counted lost; the next connection acknowledges', () => {
  const { hub, clock, a, b } = pair(23);
  let dropped = 0;
  const receive = b.ep.receive.bind(b.ep);
  b.ep.receive = (bytes: Uint8Array, from: MemoryPeer): void => {
    if (bytes[1] === MsgType.PROBE && bytes[3] === ACK_PROBE_CODE && dropped === 0) {
      dropped++;
      return;
    }
    receive(bytes, from);
  };
  a.ep.connect({ remoteAddress: B, remotePort: 0x1234, localPort: 0x1000, ipa: 1, link: hub.peer('b') });
  assert.ok(run(hub, clock, [a, b], () => a.rec.connected.length === 1, 5000));
  const [ca] = a.ep.connections();
  const [cb] = b.ep.connections();
  for (let step = 0; step < 30; step++) {
    run(hub, clock, [a, b], () => false, 500);
    assert.equal(a.ep.isUp(ca!.connId), true, `caller up ${clock.t} ms on`);
    assert.equal(b.ep.isUp(cb!.connId), true, `callee up ${clock.t} ms on`);
  }
  assert.equal(dropped, 1);
  assert.equal(a.ep.findConnection(ca!.connId)?.peerAcks, PeerAcks.NO);
  assert.equal(b.ep.findConnection(cb!.connId)?.peerAcks, PeerAcks.UNKNOWN);
  assert.equal(a.ep.health(ca!.connId)?.lossRatio, 0);
  assert.equal(b.ep.counters.probesRested, 0, 'the callee probes as with an older peer');
  a.ep.connect({ remoteAddress: B, remotePort: 0x1234, localPort: 0x1001, ipa: 1, link: hub.peer('b') });
  run(hub, clock, [a, b], () => false, 10_000);
  assert.ok(b.ep.counters.probesRested > 0, 'a second connection between the same hosts acknowledges and rests');
});

test('keyed connections seal acknowledging probes and rest alike', () => {
  const keys = { a: generateKeyPair(), b: generateKeyPair() };
  const { hub, clock, a, b } = pair(29, {},
    { identity: keys.a, peerKeyOf: () => keys.b.publicKey, wallClock: () => clock.t },
    { identity: keys.b, peerKeyOf: () => keys.a.publicKey, wallClock: () => clock.t });
  a.ep.connect({ remoteAddress: B, remotePort: 0x1234, localPort: 0x1000, ipa: 1, link: hub.peer('b') });
  assert.ok(run(hub, clock, [a, b], () => a.rec.connected.length === 1, 5000), 'keyed call up');
  run(hub, clock, [a, b], () => false, 8000);
  a.sent.length = 0;
  b.sent.length = 0;
  const rested = b.ep.counters.probesRested;
  for (let step = 0; step < 40; step++) {
    run(hub, clock, [a, b], () => false, 500);
    for (const n of [a, b]) for (const c of n.ep.connections()) assert.equal(n.ep.isUp(c.connId), true, `${n.name} up ${clock.t} ms on`);
  }
  assert.ok(a.sent.length > 0 && a.sent.every((s) => s.bytes[1] === 14), 'everything a sends is sealed');
  assert.ok(b.ep.counters.probesRested - rested >= 8, `the keyed callee rests (${b.ep.counters.probesRested - rested})`);
  // Over 20 s: about 10 probes from a and 10 replies from b; b adds none of its own.
  assert.ok(b.sent.length <= a.sent.length + 1, `b sent ${b.sent.length}, a ${a.sent.length}`);
  for (const c of b.ep.connections()) assert.equal(b.ep.findConnection(c.connId)?.secure !== null, true);
});
