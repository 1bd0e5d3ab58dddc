// Asking probes (msnl(7) Probes, code 4): a callee with many connections asks its callers for the
// interval of its own probes, and they stretch theirs (never beyond 5 s); an older callee (drops
// code 4) and an older caller (never asks) still work; a hostile ask is clamped; the health
// windows hold at the stretched interval, with a lost probe, and a partition still shows. Fake clock.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { MemoryHub, type MemoryPeer } from '../../src/msdl/memory.js';
import { MsgType } from '../../src/msnl/constants.js';
import { PeerAcks } from '../../src/msnl/connection.js';
import { ACK_PROBE_CODE, ASK_PROBE_CODE, ASK_REPLY_SIZE, decodeMessage, encodeAskProbe, encodeAskReply } from '../../src/msnl/wire.js';
import { FakeClock, makeNode, run, type Node } from './harness.js';

const A = 0x80e80001;
const B = 0x80e80002;
/** B's budget: 10 probes a second, so 50 connections ask for 5 s (and 25 for 2.5 s, 3 s on the grid). */
const B_BUDGET = { probesPerSecond: 10 };

const isHealthProbe = (b: Uint8Array): boolean => b[1] === MsgType.PROBE && (b[3] === 0 || b[3] === ACK_PROBE_CODE || b[3] === ASK_PROBE_CODE);

interface Setup { hub: MemoryHub; clock: FakeClock; a: Node; b: Node; arrivals: Map<number, number[]> }

/** a calls b `count` times; `arrivals` records, per b's connection id, when a's health probes reached b. */
function setup(seed: number, count: number, bConfig = {}, aConfig = {}): Setup {
  const clock = new FakeClock();
  const hub = new MemoryHub({ clock, seed, loss: 0, delayMs: 1 });
  const a = makeNode(hub, clock, 'a', A, seed, aConfig, { capture: true });
  const b = makeNode(hub, clock, 'b', B, seed + 1, { ...B_BUDGET, ...bConfig }, { capture: true });
  b.ep.listen(0x1234);
  const arrivals = new Map<number, number[]>();
  const receive = b.ep.receive.bind(b.ep);
  b.ep.receive = (bytes: Uint8Array, from: MemoryPeer): void => {
    if (isHealthProbe(bytes) && bytes.length >= 16) {
      const id = Buffer.from(bytes).readUInt32BE(4);
      arrivals.set(id, [...(arrivals.get(id) ?? []), clock.t]);
    }
    receive(bytes, from);
  };
  for (let i = 0; i < count; i++) a.ep.connect({ remoteAddress: B, remotePort: 0x1234, localPort: 0x1000 + i, ipa: 1, link: hub.peer('b') });
  assert.ok(run(hub, clock, [a, b], () => a.rec.connected.length === count, 5000), 'all calls up');
  return { hub, clock, a, b, arrivals };
}

/** Runs `ms` in 500 ms steps, asserting every connection up at both ends at each step. */
function allUp(s: Setup, ms: number, what: string): void {
  for (let t = 0; t < ms; t += 500) {
    run(s.hub, s.clock, [s.a, s.b], () => false, 500);
    for (const n of [s.a, s.b]) for (const c of n.ep.connections()) assert.equal(n.ep.isUp(c.connId), true, `${what}: ${n.name} ${c.connId} up ${s.clock.t} ms on`);
  }
}

/** The gaps between a's probes to each of b's connections after `from`. */
function gaps(arrivals: Map<number, number[]>, from: number): number[] {
  const out: number[] = [];
  for (const times of arrivals.values()) {
    const later = times.filter((t) => t >= from);
    for (let i = 1; i < later.length; i++) out.push(later[i]! - later[i - 1]!);
  }
  return out;
}

test('the asking probe is an acknowledging probe of code 4, 24 octets; its reply 20 octets carrying the interval asked for; other lengths are malformed', () => {
  const probe = encodeAskProbe(0x22222222, 6, 0x137d0, 5, 2000);
  assert.equal(Buffer.from(probe).toString('hex'), '01080004222222220000000600013' + '7d000000005000007d0');
  const p = decodeMessage(probe);
  assert.ok(p.ok && p.msg.type === MsgType.PROBE && 'asking' in p.msg && p.msg.asking === true && p.msg.acking === true && p.msg.ackSeq === 5 && p.msg.holdMs === 2000, JSON.stringify(p));
  const reply = encodeAskReply(0x11111111, 6, 0x137d0, 5000);
  assert.equal(reply.length, ASK_REPLY_SIZE);
  assert.equal(Buffer.from(reply).toString('hex'), '0109000411111111000000060001' + '37d000001388');
  const r = decodeMessage(reply);
  assert.ok(r.ok && r.msg.type === MsgType.PROBE_REPLY && 'askMs' in r.msg && r.msg.askMs === 5000, JSON.stringify(r));
  assert.equal(decodeMessage(reply.subarray(0, 16)).ok, false, 'a 16-octet code-4 reply is malformed');
  assert.equal(decodeMessage(Uint8Array.from([...reply, 0, 0, 0, 0])).ok, false, 'a 24-octet code-4 reply is malformed');
  assert.equal(decodeMessage(probe.subarray(0, 20)).ok, false, 'a 20-octet code-4 probe is malformed');
  const five = Uint8Array.from(probe);
  five[3] = 5;
  assert.equal(decodeMessage(five).ok, false, 'code 5 is malformed');
});

test('a callee with many connections asks for its own interval: its callers stretch to it, it rests, every connection stays up both ways', () => {
  const s = setup(31, 50);
  allUp(s, 15_000, 'adopting');
  for (const c of s.a.ep.connections()) {
    const conn = s.a.ep.findConnection(c.connId)!;
    assert.equal(conn.peerAsks, PeerAcks.YES, 'the caller knows the callee answers asking probes');
    assert.equal(conn.askedByPeerMs, 5000, 'and that it asks for 5 s');
  }
  const from = s.clock.t;
  const bProbes = s.b.ep.counters.probesSent;
  s.a.sent.length = 0;
  s.b.sent.length = 0;
  allUp(s, 60_000, 'stretched');
  const g = gaps(s.arrivals, from);
  assert.ok(g.length >= 50 * 10, `${g.length} gaps`);
  assert.ok(g.every((x) => x >= 4000 && x <= 5000), `every caller probe 4-5 s after the last (${Math.min(...g)}..${Math.max(...g)})`);
  const asking = s.a.sent.filter((x) => isHealthProbe(x.bytes));
  assert.ok(asking.every((x) => x.bytes[3] === ASK_PROBE_CODE && x.bytes.length === 24), 'every probe asks');
  assert.ok(asking.length <= 50 * 13, `60 s at 5 s: about 12 probes a connection (${asking.length})`);
  assert.equal(s.b.ep.counters.probesSent - bProbes, 0, 'the callee sent no probe of its own');
  assert.equal(s.b.sent.filter((x) => x.bytes[1] === MsgType.PROBE_REPLY && x.bytes[3] === ASK_PROBE_CODE && x.bytes.length === ASK_REPLY_SIZE).length, asking.length, 'each answered with a 20-octet code-4 reply');
  for (const c of s.a.ep.connections()) assert.equal(s.a.ep.health(c.connId)?.lossRatio, 0);
});

test('a callee whose connections grow stretches its callers on the way, and its connections never show half up', () => {
  const s = setup(37, 5);
  allUp(s, 10_000, 'few');
  assert.ok(gaps(s.arrivals, s.clock.t - 6000).every((x) => x <= 2000), 'at 5 connections the callee asks for its 2 s');
  const before = s.b.ep.counters.probesSent;
  for (let i = 5; i < 50; i++) s.a.ep.connect({ remoteAddress: B, remotePort: 0x1234, localPort: 0x1000 + i, ipa: 1, link: s.hub.peer('b') });
  allUp(s, 20_000, 'growing');
  const from = s.clock.t;
  allUp(s, 20_000, 'many');
  // Its first probe on some new connections (where the caller's second probe, the first to
  // acknowledge, comes after it: 15 here), and no more: it expects its callers to slow down to what
  // it asked, so it does not wake when their gap grows from 2 s to 5 s (it would: 43 here).
  assert.ok(s.b.ep.counters.probesSent - before <= 25, `the callee probed ${s.b.ep.counters.probesSent - before} times`);
  const g = gaps(s.arrivals, from);
  assert.ok(g.length > 0 && g.every((x) => x >= 4000 && x <= 5000), `the first five stretched with the rest (${Math.min(...g)}..${Math.max(...g)})`);
});

test('a lost probe at the stretched interval is tolerated at both ends; a partition still takes both down, and the callee probes again', () => {
  const s = setup(41, 50);
  allUp(s, 15_000, 'adopting');
  // Every caller probe lost for 5 s: one probe a connection.
  const receive = s.b.ep.receive;
  let dropping = true;
  let dropped = 0;
  s.b.ep.receive = (bytes: Uint8Array, from: MemoryPeer): void => {
    if (dropping && isHealthProbe(bytes)) {
      dropped++;
      return;
    }
    receive(bytes, from);
  };
  allUp(s, 5000, 'one probe lost');
  dropping = false;
  assert.ok(dropped >= 50, `${dropped} probes dropped`);
  allUp(s, 20_000, 'after');
  const sent = s.b.ep.counters.probesSent;
  s.hub.detach('b');
  run(s.hub, s.clock, [s.a, s.b], () => false, 14_000);
  for (const n of [s.a, s.b]) for (const c of n.ep.connections()) assert.equal(n.ep.isUp(c.connId), false, `${n.name} down 14 s into the partition`);
  assert.ok(s.b.ep.counters.probesSent > sent, 'the callee probes again once acknowledgements stop');
});

test('an older callee that drops code 4 but speaks code 3: one asking probe, then acknowledging ones at the caller\'s own interval; nothing lost, both up, the callee rests', () => {
  const s = setup(43, 20);
  const receive = s.b.ep.receive;
  s.b.ep.receive = (bytes: Uint8Array, from: MemoryPeer): void => {
    if ((bytes[1] === MsgType.PROBE || bytes[1] === MsgType.PROBE_REPLY) && bytes[3] === ASK_PROBE_CODE) return;
    receive(bytes, from);
  };
  allUp(s, 40_000, 'older callee');
  const perConn = new Map<number, number[]>();
  for (const x of s.a.sent) if (isHealthProbe(x.bytes)) {
    const id = Buffer.from(x.bytes).readUInt32BE(4);
    perConn.set(id, [...(perConn.get(id) ?? []), x.bytes[3]!]);
  }
  for (const codes of perConn.values()) assert.equal(codes.join(''), '34' + '3'.repeat(codes.length - 2), 'code 3, one asking probe, code 3 from then on');
  for (const c of s.a.ep.connections()) {
    assert.equal(s.a.ep.findConnection(c.connId)?.peerAsks, PeerAcks.NO);
    assert.equal(s.a.ep.health(c.connId)?.lossRatio, 0, 'the dropped asking probe is not counted as lost');
  }
  const g = gaps(s.arrivals, s.clock.t - 20_000);
  assert.ok(g.every((x) => x <= 2000), 'the caller keeps its own 2 s');
  assert.ok(s.b.ep.counters.probesRested > 20 * 10, 'the callee rests');
});

test('an older caller that never asks keeps its own interval against a callee that would ask; both up, the callee rests', () => {
  const s = setup(47, 50, {}, { probeAsks: false });
  allUp(s, 30_000, 'older caller');
  assert.ok(s.a.sent.filter((x) => isHealthProbe(x.bytes)).every((x) => x.bytes[3] === ACK_PROBE_CODE), 'only code 3');
  assert.equal(s.b.sent.filter((x) => x.bytes[3] === ASK_PROBE_CODE).length, 0, 'no code-4 reply');
  const g = gaps(s.arrivals, s.clock.t - 15_000);
  assert.ok(g.length > 0 && g.every((x) => x <= 2000), '2 s');
  assert.ok(s.b.ep.counters.probesRested > 0);
});

test('a hostile ask is clamped: 0xffffffff stretches to 5 s, never beyond; 0 leaves the caller at its own interval', () => {
  for (const [ask, lo, hi] of [[0xffffffff, 4000, 5000], [0, 1000, 2000], [1, 1000, 2000]] as const) {
    const s = setup(53, 10, { probesPerSecond: 1000 });
    const receive = s.a.ep.receive.bind(s.a.ep);
    s.a.ep.receive = (bytes: Uint8Array, from: MemoryPeer): void => {
      if (bytes[1] === MsgType.PROBE_REPLY && bytes[3] === ASK_PROBE_CODE && bytes.length === ASK_REPLY_SIZE) {
        const copy = Uint8Array.from(bytes);
        Buffer.from(copy.buffer).writeUInt32BE(ask, 16);
        receive(copy, from);
        return;
      }
      receive(bytes, from);
    };
    allUp(s, 15_000, `ask ${ask}`);
    const from = s.clock.t;
    allUp(s, 30_000, `ask ${ask}`);
    const g = gaps(s.arrivals, from);
    assert.ok(g.length > 0 && g.every((x) => x >= lo && x <= hi), `ask ${ask}: gaps ${Math.min(...g)}..${Math.max(...g)}`);
    for (const c of s.a.ep.connections()) assert.ok(s.a.ep.findConnection(c.connId)!.askedByPeerMs <= 5000);
  }
});
