// A connection over a route with two exits, between endpoints on the in-memory hub: the host
// called answers on two underlay addresses (b1, b2); the exit in use goes silent and the
// connection moves to the other within 3 s as the same connection (plain and keyed), moves back
// after the hold-down, and each exit keeps its own path MTU.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { MemoryHub, type MemoryPeer } from '../../src/msdl/memory.js';
import { generateKeyPair } from '../../src/crypto/primitives.js';
import { DATA_HEADER_SIZE } from '../../src/msnl/constants.js';
import { DEFAULT_EXIT_TIMERS } from '../../src/msnl/exits.js';
import { encodeExitProbe, writeDataHeader } from '../../src/msnl/wire.js';
import type { EndpointConfig } from '../../src/msnl/types.js';
import { FakeClock, makeNode, run, type Node, type NodeExtras } from './harness.js';

const A = 0x80e80001;
const B = 0x80e80002;
const PORT = 0x0800;

interface Setup {
  clock: FakeClock;
  hub: MemoryHub;
  a: Node;
  b: Node;
}

function setup(keyed: boolean, extrasOf: (hub: MemoryHub) => { a?: NodeExtras; b?: NodeExtras } = () => ({}), config: Partial<EndpointConfig> = {}): Setup {
  const clock = new FakeClock();
  const hub = new MemoryHub({ clock, seed: 5, delayMs: 5 });
  const extras = extrasOf(hub);
  const keys = { a: generateKeyPair(), b: generateKeyPair() };
  const keyOf = (peer: number, key: Uint8Array) => (addr: number): Uint8Array | 'none' | undefined => (addr === peer ? (keyed ? key : 'none') : undefined);
  const a = makeNode(hub, clock, 'a', A, 21, config, {
    capture: true, ...(keyed ? { identity: keys.a, wallClock: () => clock.t } : {}), peerKeyOf: keyOf(B, keys.b.publicKey),
    exitsOf: (addr) => (addr === B ? [{ link: hub.peer('b1'), priority: 10 }, { link: hub.peer('b2'), priority: 20 }] : undefined),
    ...extras.a,
  });
  const b = makeNode(hub, clock, 'b1', B, 22, {}, { ...(keyed ? { identity: keys.b, wallClock: () => clock.t } : {}), peerKeyOf: keyOf(A, keys.a.publicKey), ...extras.b });
  // The host called has a second underlay address.
  hub.attach('b2').onReceive((bytes, from) => b.ep.receive(bytes, from));
  b.ep.listen(PORT);
  return { clock, hub, a, b };
}

function call(s: Setup): { aConn: number; bConn: number } {
  s.a.ep.connect({ remoteAddress: B, remotePort: PORT, localPort: PORT, ipa: 0x0a000001, link: s.hub.peer('b1') });
  assert.ok(run(s.hub, s.clock, [s.a, s.b], () => s.a.rec.connected.length === 1 && s.b.rec.connected.length === 1, 2000), 'the call completes');
  return { aConn: s.a.rec.connected[0]!.conn.connId, bConn: s.b.rec.connected[0]!.conn.connId };
}

/** Sends a 1000-octet packet from a to b every 20 ms for `ms`; returns the packets that arrived. */
function stream(s: Setup, aConn: number, ms: number, arrivals: number[] = []): number[] {
  const end = s.clock.t + ms;
  while (s.clock.t < end) {
    const buf = new Uint8Array(DATA_HEADER_SIZE + 1000);
    s.a.ep.send(aConn, buf, DATA_HEADER_SIZE, 1000);
    const before = s.b.rec.data.length;
    run(s.hub, s.clock, [s.a, s.b], () => false, 20);
    for (let i = before; i < s.b.rec.data.length; i++) arrivals.push(s.clock.t);
  }
  return arrivals;
}

const linkOf = (s: Setup, conn: number): string => (s.a.ep.connection(conn)?.link as MemoryPeer | undefined)?.name ?? 'gone';

for (const keyed of [false, true]) {
  test(`${keyed ? 'keyed' : 'plain'}: the exit in use goes silent, the connection moves to the other within 3 s and back after the hold-down`, () => {
    const s = setup(keyed);
    const { aConn, bConn } = call(s);
    stream(s, aConn, 3000);
    assert.equal(linkOf(s, aConn), 'b1');
    const exits = s.a.ep.exits(aConn)!;
    assert.deepEqual(exits.map((e) => [(e.link as MemoryPeer).name, e.priority, e.state]), [['b1', 10, 'active'], ['b2', 20, 'standby']], 'the standby exit is probed and answers');
    assert.ok(exits.every((e) => e.rttMs >= 0 && e.lossRatio === 0));
    const received = s.b.rec.data.length;
    // Everything to b1 is lost from now on, silently.
    s.hub.limitPath('b1', 1, true);
    const cutAt = s.clock.t;
    const arrivals = stream(s, aConn, 6000);
    assert.equal(linkOf(s, aConn), 'b2', 'moved to the second exit');
    const stall = (arrivals[0] ?? Infinity) - cutAt;
    assert.ok(stall < 3000, `data flowed again ${stall} ms after the cut`);
    assert.ok(s.b.rec.data.length - received > 200, 'data kept flowing on the second exit');
    assert.equal(s.a.rec.connected.length, 1, 'no new call');
    assert.equal(s.b.rec.connected.length, 1);
    assert.deepEqual(s.a.rec.disconnected, []);
    assert.equal(s.b.rec.data.at(-1) !== undefined && s.b.ep.connection(bConn) !== undefined, true, 'the same connection on b');
    assert.equal(s.a.ep.counters.exitMoves, 1);
    assert.deepEqual(s.a.ep.exits(aConn)!.map((e) => e.state), ['down', 'active']);
    if (keyed) {
      assert.ok(s.a.sent.every((d) => d.bytes[1]! >= 11), 'every frame a sent stayed sealed across the move');
      assert.equal(s.b.ep.counters.dropAuth, 0);
    }
    s.hub.limitPath('b1', undefined);
    const restoredAt = s.clock.t;
    let backAt = -1;
    for (let i = 0; i < 600 && backAt < 0; i++) {
      stream(s, aConn, 20);
      if (linkOf(s, aConn) === 'b1') backAt = s.clock.t;
    }
    assert.ok(backAt > 0, 'moved back to the preferred exit');
    assert.ok(backAt - restoredAt >= DEFAULT_EXIT_TIMERS.holdDownMs, `not before the hold-down (${backAt - restoredAt} ms)`);
    assert.ok(backAt - restoredAt <= DEFAULT_EXIT_TIMERS.holdDownMs + 2000, `soon after it (${backAt - restoredAt} ms)`);
    assert.equal(s.a.ep.counters.exitMoves, 2);
    assert.equal(s.a.rec.connected.length, 1);
  });
}

test('each exit keeps its own path MTU: the segments follow the exit in use', () => {
  const s = setup(false, () => ({ a: { pathLimitOf: (link) => ({ maxDatagram: (link as MemoryPeer).name === 'b1' ? 1472 : 1200, pinned: true }) } }));
  const { aConn } = call(s);
  s.a.sent.length = 0;
  s.a.ep.send(aConn, new Uint8Array(DATA_HEADER_SIZE + 1400), DATA_HEADER_SIZE, 1400);
  assert.deepEqual(s.a.sent.filter((d) => d.bytes[1] === 10).map((d) => d.bytes.length), [1416], 'one datagram on b1');
  s.hub.limitPath('b1', 1, true);
  stream(s, aConn, 3000);
  assert.equal(linkOf(s, aConn), 'b2');
  s.a.sent.length = 0;
  s.a.ep.send(aConn, new Uint8Array(DATA_HEADER_SIZE + 1400), DATA_HEADER_SIZE, 1400);
  const sizes = s.a.sent.filter((d) => d.bytes[1] === 10).map((d) => d.bytes.length);
  assert.equal(sizes.length, 2, `two segments on b2's 1200-octet path (${sizes.join(', ')})`);
  assert.ok(sizes.every((n) => n <= 1200));
  assert.deepEqual(s.a.ep.exits(aConn)!.map((e) => e.maxDatagram), [1472, 1200]);
});

test('plain frames of a connection with exits are taken from its exits only', () => {
  const s = setup(false, (hub) => ({ b: { exitsOf: (addr) => (addr === A ? [{ link: hub.peer('a'), priority: 0 }, { link: hub.peer('a2'), priority: 0 }] : undefined) } }));
  const { bConn } = call(s);
  const forged = new Uint8Array(DATA_HEADER_SIZE + 20);
  writeDataHeader(forged, 0, bConn, 99, 20, 0);
  const evil = s.hub.attach('evil');
  const a2 = s.hub.attach('a2');
  const before = s.b.rec.data.length;
  const refused = s.b.ep.counters.dropPlainRefused;
  evil.send(s.hub.peer('b1'), forged);
  run(s.hub, s.clock, [s.a, s.b], () => false, 50);
  assert.equal(s.b.rec.data.length, before, 'a frame from an address that is no exit of the route is dropped');
  assert.equal(s.b.ep.counters.dropPlainRefused, refused + 1);
  a2.send(s.hub.peer('b1'), forged);
  run(s.hub, s.clock, [s.a, s.b], () => false, 50);
  assert.equal(s.b.rec.data.length, before + 1, 'a frame from the route\'s other exit is taken');
});

test('a plain exit probe is answered only from the connection\'s peer or its route\'s exits (no reflection to a forged source)', () => {
  const s = setup(false);
  const { bConn } = call(s);
  const evil = s.hub.attach('evil');
  const answers: Uint8Array[] = [];
  evil.onReceive((bytes) => answers.push(bytes));
  const refused = s.b.ep.counters.dropPlainRefused;
  evil.send(s.hub.peer('b1'), encodeExitProbe(false, bConn, 8, 1));
  run(s.hub, s.clock, [s.a, s.b], () => false, 50);
  assert.deepEqual(answers, [], 'b has one exit for a: nothing goes to another source');
  assert.equal(s.b.ep.counters.dropPlainRefused, refused + 1);
});

for (const keyed of [false, true]) {
  test(`${keyed ? 'keyed' : 'plain'}: a standby exit's path MTU is searched before any move (a silent 1300-octet limit there), within the shared size-probe budget; the move lands on it`, () => {
    const s = setup(keyed, () => ({ a: { pathLimitOf: () => ({ maxDatagram: 1472, pinned: false }) } }));
    // The standby path drops anything over 1300 octets and says nothing (a black hole).
    s.hub.limitPath('b2', 1300, true);
    const { aConn } = call(s);
    const sizeProbesBefore = s.a.ep.counters.sizeProbesSent;
    stream(s, aConn, 30_000);
    const exits = s.a.ep.exits(aConn)!;
    assert.equal(exits[0]!.maxDatagram, 1472, 'the active path is the link\'s size');
    assert.ok(exits[1]!.maxDatagram <= 1300 && exits[1]!.maxDatagram > 1300 - 16, `the standby's search found its size: ${exits[1]!.maxDatagram}`);
    assert.equal(exits[1]!.state, 'standby');
    const probes = s.a.ep.counters.sizeProbesSent - sizeProbesBefore;
    assert.ok(probes < 60, `a low rate: ${probes} size probes in 30 s for both paths`);
    // The preferred exit goes silent: the connection moves, and its data already fits the standby path.
    s.hub.limitPath('b1', 1, true);
    stream(s, aConn, 3000);
    assert.equal(linkOf(s, aConn), 'b2');
    const received = s.b.rec.data.length;
    s.a.sent.length = 0;
    s.a.ep.send(aConn, new Uint8Array(DATA_HEADER_SIZE + 1400), DATA_HEADER_SIZE, 1400);
    run(s.hub, s.clock, [s.a, s.b], () => false, 50);
    const sizes = s.a.sent.filter((d) => d.to.name === 'b2' && d.bytes.length > 100).map((d) => d.bytes.length);
    assert.ok(sizes.length >= 2 && sizes.every((n) => n <= 1300), `the packet went in datagrams that fit: ${sizes.join(', ')}`);
    assert.equal(s.b.rec.data.length, received + 1, 'and arrived, with no search after the move');
    if (keyed) assert.equal(s.b.ep.counters.dropAuth, 0);
  });
}

test('standby size probes come out of the shared size-probe budget, each standby counting in its own sequence range', () => {
  const standbyProbes = (x: Setup): number[] => x.a.sent.filter((d) => d.to.name === 'b2' && d.bytes[1] === 8 && d.bytes[3] === 1).map((d) => new DataView(d.bytes.buffer, d.bytes.byteOffset).getUint32(8));
  const limit = (): { a: NodeExtras } => ({ a: { pathLimitOf: () => ({ maxDatagram: 1472, pinned: false }) } });
  const s = setup(false, limit);
  const { aConn } = call(s);
  stream(s, aConn, 20_000);
  const seqs = standbyProbes(s);
  assert.ok(seqs.length > 0, 'with the default budget the standby is size-probed');
  const base = 2 * 2 ** 28; // exit index 1
  assert.ok(seqs.every((q) => q > base && q < base + 2 ** 28), `in its own range: ${seqs.join(' ')}`);
  // One token in all over the run: one size probe in all, the standby's included.
  const starved = setup(false, limit, { sizeProbeRatePerSecond: 0.001, sizeProbeBurst: 1 });
  const starvedConn = call(starved).aConn;
  stream(starved, starvedConn, 20_000);
  assert.equal(starved.a.ep.counters.sizeProbesSent, 1, 'no size probe beyond the budget');
  assert.ok(standbyProbes(starved).length <= 1);
  assert.ok(starved.a.ep.exits(starvedConn)!.every((e) => e.state !== 'down'), 'exit probes are not part of it');
});
