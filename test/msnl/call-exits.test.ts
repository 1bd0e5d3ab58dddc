// A call over a route with two exits, between two endpoints that each have two underlay addresses
// on two separate networks (a1-b1, a2-b2, as two veth pairs: a datagram to b2 leaves from a2). The
// preferred network is dead when the call is made: the connect request's retransmission goes to
// the standby exit and the call comes up there (plain and keyed), as the exit in use; restored,
// the connection moves back to the preferred exit after the hold-down, with no new call.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { MemoryHub, type MemoryPeer } from '../../src/msdl/memory.js';
import { generateKeyPair } from '../../src/crypto/primitives.js';
import { DATA_HEADER_SIZE, MsgType } from '../../src/msnl/constants.js';
import { DEFAULT_EXIT_TIMERS } from '../../src/msnl/exits.js';
import { DEFAULT_ENDPOINT_CONFIG, type EndpointConfig } from '../../src/msnl/types.js';
import { FakeClock, makeNode, run, type Node } from './harness.js';

const A = 0x80e80001;
const B = 0x80e80002;
const PORT = 0x0800;

interface Setup {
  clock: FakeClock;
  hub: MemoryHub;
  a: Node;
  b: Node;
}

function setup(keyed: boolean, calleeExits = true, config: Partial<EndpointConfig> = {}): Setup {
  const clock = new FakeClock();
  const hub = new MemoryHub({ clock, seed: 7, delayMs: 5 });
  const keys = { a: generateKeyPair(), b: generateKeyPair() };
  const keyOf = (peer: number, key: Uint8Array) => (addr: number): Uint8Array | 'none' | undefined => (addr === peer ? (keyed ? key : 'none') : undefined);
  // Each network has its own addresses: a datagram to x2 leaves from the sender's address 2.
  const sourceOf = (me: string) => (to: MemoryPeer): string => `${me}${to.name.endsWith('2') ? 2 : 1}`;
  const keyedExtras = (kp: ReturnType<typeof generateKeyPair>) => (keyed ? { identity: kp, wallClock: () => clock.t } : {});
  const a = makeNode(hub, clock, 'a1', A, 31, config, {
    capture: true, addresses: ['a2'], sourceFor: sourceOf('a'), ...keyedExtras(keys.a), peerKeyOf: keyOf(B, keys.b.publicKey),
    exitsOf: (addr) => (addr === B ? [{ link: hub.peer('b1'), priority: 10 }, { link: hub.peer('b2'), priority: 20 }] : undefined),
  });
  const b = makeNode(hub, clock, 'b1', B, 32, {}, {
    addresses: ['b2'], sourceFor: sourceOf('b'), ...keyedExtras(keys.b), peerKeyOf: keyOf(A, keys.a.publicKey),
    exitsOf: (addr) => (calleeExits && addr === A ? [{ link: hub.peer('a1'), priority: 10 }, { link: hub.peer('a2'), priority: 20 }] : undefined),
  });
  b.ep.listen(PORT);
  return { clock, hub, a, b };
}

/** Network 1 (a1-b1) drops everything, silently, both ways; or carries again. */
function network1(s: Setup, up: boolean): void {
  for (const end of ['a1', 'b1']) s.hub.limitPath(end, up ? undefined : 1, true);
}

/** Calls b from a as a's manager does: on the route's most preferred exit. */
function dial(s: Setup): void {
  s.a.ep.connect({ remoteAddress: B, remotePort: PORT, localPort: PORT, ipa: 0x0a000001, link: s.hub.peer('b1') });
}

const nameOf = (link: unknown): string => (link as MemoryPeer | undefined)?.name ?? 'gone';
/** The underlay destination of each connect request a sent (a handshake initiation when keyed). */
const requestsTo = (s: Setup, keyed: boolean): string[] => s.a.sent.filter((d) => (keyed ? d.bytes[1] === 11 : d.bytes[1] === MsgType.CONNECT_REQUEST)).map((d) => d.to.name);

for (const keyed of [false, true]) {
  const kind = keyed ? 'keyed' : 'plain';

  test(`${kind}: a call made while the preferred exit is dead comes up through the standby exit, which is then the exit in use; it moves back after the hold-down`, () => {
    const s = setup(keyed);
    network1(s, false);
    const start = s.clock.t;
    dial(s);
    assert.ok(run(s.hub, s.clock, [s.a, s.b], () => s.a.rec.connected.length === 1 && s.b.rec.connected.length === 1, 5000), 'the call completes');
    const upMs = s.clock.t - start;
    assert.ok(upMs <= DEFAULT_ENDPOINT_CONFIG.connectFirstRetryMs + 100, `up after ${upMs} ms: at the first retransmission, to the standby exit`);
    assert.deepEqual(requestsTo(s, keyed), ['b1', 'b2'], 'the request to the preferred exit, its retransmission to the standby');
    const aConn = s.a.rec.connected[0]!.conn;
    const bConn = s.b.rec.connected[0]!.conn;
    assert.equal(nameOf(aConn.link), 'b2', 'the caller uses the exit that answered');
    assert.equal(nameOf(bConn.link), 'a2', 'the callee took the call from the caller\'s standby address');
    assert.equal(s.b.rec.incoming.length, 1, 'one call at the callee');
    // Data flows, and the caller's exits say which one is in use.
    for (let i = 0; i < 20; i++) {
      s.a.ep.send(aConn.connId, new Uint8Array(DATA_HEADER_SIZE + 500), DATA_HEADER_SIZE, 500);
      run(s.hub, s.clock, [s.a, s.b], () => false, 50);
    }
    assert.equal(s.b.rec.data.length, 20, 'every packet arrived through the standby exit');
    const exits = s.a.ep.exits(aConn.connId)!;
    assert.deepEqual(exits.map((e) => [nameOf(e.link), e.state]), [['b1', 'down'], ['b2', 'active']]);
    if (keyed) assert.equal(s.b.ep.counters.dropAuth, 0, 'every frame authenticated');
    // The preferred network comes back: both ends move back after the hold-down, as the same connection.
    network1(s, true);
    const restoredAt = s.clock.t;
    let backAt = -1;
    for (let i = 0; i < 600 && backAt < 0; i++) {
      run(s.hub, s.clock, [s.a, s.b], () => false, 20);
      if (nameOf(s.a.ep.connection(aConn.connId)?.link) === 'b1') backAt = s.clock.t;
    }
    assert.ok(backAt > 0, 'moved back to the preferred exit');
    assert.ok(backAt - restoredAt >= DEFAULT_EXIT_TIMERS.holdDownMs, `not before the hold-down (${backAt - restoredAt} ms)`);
    assert.ok(backAt - restoredAt <= DEFAULT_EXIT_TIMERS.holdDownMs + 2000, `soon after it (${backAt - restoredAt} ms)`);
    run(s.hub, s.clock, [s.a, s.b], () => nameOf(s.b.ep.connection(bConn.connId)?.link) === 'a1', 3000);
    assert.equal(nameOf(s.b.ep.connection(bConn.connId)?.link), 'a1', 'the callee moved back too');
    assert.equal(s.a.rec.connected.length, 1, 'no new call');
    assert.deepEqual(s.a.rec.disconnected, []);
    assert.deepEqual(s.b.rec.disconnected, []);
    if (keyed) assert.equal(s.b.ep.counters.dropAuth + s.a.ep.counters.dropAuth, 0);
  });

  test(`${kind}: with the preferred exit alive a call goes there alone; with every exit dead the retransmissions take the exits in turn and the call fails at its timeout`, () => {
    const s = setup(keyed);
    dial(s);
    assert.ok(run(s.hub, s.clock, [s.a, s.b], () => s.a.rec.connected.length === 1, 2000));
    assert.deepEqual(requestsTo(s, keyed), ['b1'], 'one request, to the preferred exit');
    assert.equal(nameOf(s.a.rec.connected[0]!.conn.link), 'b1');

    const dead = setup(keyed);
    network1(dead, false);
    dead.hub.limitPath('b2', 1, true);
    const start = dead.clock.t;
    dial(dead);
    run(dead.hub, dead.clock, [dead.a, dead.b], () => dead.a.rec.failed.length === 1, DEFAULT_ENDPOINT_CONFIG.connectTimeoutMs + 1000);
    assert.equal(dead.a.rec.failed.length, 1, 'the call failed');
    assert.ok(dead.clock.t - start <= DEFAULT_ENDPOINT_CONFIG.connectTimeoutMs + 50, 'at its timeout: bounded as before');
    const to = requestsTo(dead, keyed);
    assert.equal(to.length, 1 + dead.a.ep.counters.retransmits, 'as many requests as before (one and its retransmissions)');
    assert.ok(to.length >= 4);
    assert.deepEqual(to, to.map((_, i) => (i % 2 === 0 ? 'b1' : 'b2')), `the exits in turn: ${to.join(' ')}`);
  });
}

test('keyed: the caller\'s standby size probes (sealed, from its standby address) do not move a callee whose route names one exit', () => {
  const s = setup(true, false, { firstSizeProbeMs: 0 });
  dial(s);
  assert.ok(run(s.hub, s.clock, [s.a, s.b], () => s.a.rec.connected.length === 1 && s.b.rec.connected.length === 1, 2000));
  const aConn = s.a.rec.connected[0]!.conn.connId;
  const bConn = s.b.rec.connected[0]!.conn.connId;
  const before = s.a.ep.counters.sizeProbesSent;
  run(s.hub, s.clock, [s.a, s.b], () => false, 20_000);
  const toStandby = s.a.sent.filter((d) => d.to.name === 'b2' && d.bytes.length > 200).length;
  assert.ok(toStandby > 0 && s.a.ep.counters.sizeProbesSent > before, 'padded size probes went to the standby exit');
  assert.equal(nameOf(s.b.ep.connection(bConn)?.link), 'a1', 'the callee still sends to the caller\'s first address');
  assert.equal(s.b.ep.counters.roams, 0);
  assert.ok(s.a.ep.exits(aConn)![1]!.state === 'standby');
});
