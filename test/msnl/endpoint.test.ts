import { test } from 'node:test';
import assert from 'node:assert/strict';
import { MemoryHub } from '../../src/msdl/memory.js';
import { DATA_HEADER_SIZE, MAX_PROBE_INTERVAL_MS, MsgType, PEER_INTERVAL_TOLERANCE, Reason, RESET_SIZE } from '../../src/msnl/constants.js';
import { MsnlEndpoint } from '../../src/msnl/endpoint.js';
import { seededRandom } from '../../src/base/random.js';
import { decodeMessage, encodeProbe, encodeSignal, writeDataHeader } from '../../src/msnl/wire.js';
import { DEFAULT_ENDPOINT_CONFIG } from '../../src/msnl/types.js';
import { FakeClock, makeNode, run } from './harness.js';

const A_ADDR = 0x0a000001;
const B_ADDR = 0x0a000002;
const PORT = 0x0800;

function pair(seed = 1, loss = 0, config = {}) {
  const clock = new FakeClock();
  const hub = new MemoryHub({ clock, seed, loss, delayMs: 5 });
  const a = makeNode(hub, clock, 'a', A_ADDR, seed * 7 + 1, config);
  const b = makeNode(hub, clock, 'b', B_ADDR, seed * 7 + 2, config);
  return { clock, hub, a, b };
}

test('connect, exchange data both ways, a 65535-octet packet is segmented and reassembled', () => {
  const { clock, hub, a, b } = pair();
  b.ep.listen(PORT);
  const handle = a.ep.connect({ remoteAddress: B_ADDR, remotePort: PORT, localPort: PORT, ipa: 0xc0000201, link: hub.peer('b') });
  assert.ok(run(hub, clock, [a, b], () => a.rec.connected.length === 1, 1000));
  assert.equal(a.rec.connected[0]!.handle, handle);
  assert.equal(b.rec.incoming.length, 1);
  assert.equal(b.rec.incoming[0]!.ipa, 0xc0000201);
  assert.deepEqual(b.rec.incoming[0]!.caller, { address: A_ADDR, port: PORT });
  const ca = a.rec.connected[0]!.conn;
  const cb = b.rec.connected[0]!.conn;
  assert.equal(ca.remoteConnId, cb.connId);
  assert.equal(cb.remoteConnId, ca.connId);
  assert.equal(ca.remoteIpa, 0xc0000200, 'the confirm carries the responder ms_ipa');

  // One datagram, header written in place into headroom.
  const buf = new Uint8Array(DATA_HEADER_SIZE + 100);
  for (let i = 0; i < 100; i++) buf[DATA_HEADER_SIZE + i] = i;
  assert.equal(a.ep.send(ca.connId, buf, DATA_HEADER_SIZE, 100), true);
  assert.equal(buf[1], 10, 'the data header went into the headroom');
  const big = new Uint8Array(65535).map((_, i) => (i * 7) & 0xff);
  assert.equal(b.ep.send(cb.connId, big, 0, big.length), true);
  run(hub, clock, [a, b], () => a.rec.data.length === 1 && b.rec.data.length === 1, 1000);
  assert.deepEqual([...b.rec.data[0]!.bytes], [...buf.subarray(DATA_HEADER_SIZE)]);
  assert.equal(a.rec.data[0]!.connId, ca.connId);
  assert.equal(Buffer.compare(Buffer.from(a.rec.data[0]!.bytes), Buffer.from(big)), 0);
  assert.equal(b.ep.connection(cb.connId)!.txPackets, 1);
  assert.equal(a.ep.connection(ca.connId)!.rxBytes, 65535);
  assert.equal(a.ep.send(999, buf, DATA_HEADER_SIZE, 10), false);
  assert.equal(a.ep.counters.dropSendNoConnection, 1);
  assert.equal(a.ep.send(ca.connId, buf, 0, 0), false);
  assert.equal(a.ep.counters.dropSendBadLength, 1);
});

test('no listener and a refusing manager both fail the call with a reason code', () => {
  const { clock, hub, a, b } = pair();
  const h1 = a.ep.connect({ remoteAddress: B_ADDR, remotePort: PORT, localPort: PORT, ipa: 1, link: hub.peer('b') });
  run(hub, clock, [a, b], () => a.rec.failed.length === 1, 1000);
  assert.deepEqual(a.rec.failed[0], { handle: h1, reason: 'refused', code: Reason.NO_LISTENER });
  b.ep.listen(PORT);
  b.policy = 'refuse';
  const h2 = a.ep.connect({ remoteAddress: B_ADDR, remotePort: PORT, localPort: PORT + 1, ipa: 1, link: hub.peer('b') });
  run(hub, clock, [a, b], () => a.rec.failed.length === 2, 1000);
  assert.deepEqual(a.rec.failed[1], { handle: h2, reason: 'refused', code: Reason.REFUSED });
  const h3 = a.ep.connect({ remoteAddress: 0x0a000009, remotePort: PORT, localPort: PORT, ipa: 1, link: hub.peer('b') });
  run(hub, clock, [a, b], () => a.rec.failed.length === 3, 1000);
  assert.deepEqual(a.rec.failed[2], { handle: h3, reason: 'refused', code: Reason.WRONG_ADDRESS });
  assert.equal(a.ep.connections().length + b.ep.connections().length, 0);
});

test('a manager may redirect a call to another SAP', () => {
  const { clock, hub, a, b } = pair();
  b.ep.listen(PORT);
  b.policy = 'hold';
  const handle = a.ep.connect({ remoteAddress: B_ADDR, remotePort: PORT, localPort: PORT, ipa: 1, link: hub.peer('b') });
  run(hub, clock, [a, b], () => b.rec.incoming.length === 1, 1000);
  assert.equal(b.ep.calls()[0]!.state, 'deciding');
  assert.equal(a.ep.calls()[0]!.state, 'connecting');
  assert.equal(b.ep.redirect(b.rec.incoming[0]!.callId, { address: 0x0a000003, port: 0x0801 }), true);
  run(hub, clock, [a, b], () => a.rec.failed.length === 1, 1000);
  assert.deepEqual(a.rec.failed[0], { handle, reason: 'redirected', code: 0, redirect: { address: 0x0a000003, port: 0x0801 } });
  assert.equal(b.ep.refuse(b.rec.incoming[0]!.callId), false, 'the call is no longer pending');
  assert.equal(a.ep.calls().length + b.ep.calls().length, 0);
});

test('a slow manager: retransmitted requests get wait and never make a second call or connection', () => {
  const { clock, hub, a, b } = pair();
  b.ep.listen(PORT);
  b.decideDelayMs = 1500;
  const handle = a.ep.connect({ remoteAddress: B_ADDR, remotePort: PORT, localPort: PORT, ipa: 1, link: hub.peer('b') });
  assert.ok(run(hub, clock, [a, b], () => a.rec.connected.length === 1, 5000));
  assert.equal(a.rec.connected[0]!.handle, handle);
  assert.equal(b.rec.incoming.length, 1);
  assert.ok(b.ep.counters.waitsSent >= 2, `waits ${b.ep.counters.waitsSent}`);
  assert.equal(b.ep.connections().length, 1);
  assert.equal(a.ep.calls().length, 0);
});

test('an undecided call times out at the caller, which cancels it at the callee', () => {
  const { clock, hub, a, b } = pair();
  b.ep.listen(PORT);
  b.policy = 'hold';
  const handle = a.ep.connect({ remoteAddress: B_ADDR, remotePort: PORT, localPort: PORT, ipa: 1, link: hub.peer('b') });
  assert.equal(b.ep.calls().length, 0);
  run(hub, clock, [a, b], () => a.rec.failed.length === 1 && b.rec.cancelled.length === 1, 10000);
  assert.deepEqual(a.rec.failed, [{ handle, reason: 'timeout', code: Reason.TIMEOUT }]);
  assert.equal(b.rec.cancelled[0], b.rec.incoming[0]!.callId);
  assert.equal(b.ep.accept(b.rec.incoming[0]!.callId), undefined);
  assert.equal(a.ep.counters.requestsSent, 6, 'at 0, 200, 600, 1400, 3000 and 4600 ms');
});

test('a lost confirm is re-sent for the retransmitted request (idempotent)', () => {
  const clock = new FakeClock();
  const wireA: Uint8Array[] = [];
  const wireB: Uint8Array[] = [];
  const events = (log: string[]) => ({
    incomingCall: (c: { callId: number }) => log.push(`in ${c.callId}`),
    connected: (h: number | undefined) => log.push(`up ${h}`),
    callFailed: () => log.push('failed'),
    data: () => undefined,
    disconnected: () => log.push('down'),
    idle: () => undefined,
    echoReply: () => undefined,
  });
  const logA: string[] = [];
  const logB: string[] = [];
  const a = new MsnlEndpoint<string>({ localAddress: A_ADDR, clock, random: seededRandom(1), transmit: (_l, b, o, n) => wireA.push(b.slice(o, o + n)), events: events(logA) });
  const b = new MsnlEndpoint<string>({ localAddress: B_ADDR, clock, random: seededRandom(2), transmit: (_l, x, o, n) => wireB.push(x.slice(o, o + n)), events: events(logB) });
  b.listen(PORT);
  const h = a.connect({ remoteAddress: B_ADDR, remotePort: PORT, localPort: PORT, ipa: 1, link: 'b' });
  b.receive(wireA.shift()!, 'a');
  assert.deepEqual(logB, ['in 1']);
  b.accept(1);
  assert.equal(wireB.length, 1);
  wireB.length = 0; // the confirm is lost
  clock.t += 200;
  a.tick();
  assert.equal(a.counters.retransmits, 1);
  b.receive(wireA.shift()!, 'a');
  assert.equal(b.counters.confirmsResent, 1);
  assert.equal(b.connections().length, 1);
  const confirm = wireB.shift()!;
  const decoded = decodeMessage(confirm);
  assert.ok(decoded.ok && decoded.msg.type === 1);
  a.receive(confirm, 'b');
  assert.deepEqual(logA, [`up ${h}`]);
  a.receive(confirm, 'b'); // a duplicate confirm changes nothing
  assert.equal(a.connections().length, 1);
  assert.deepEqual(logB, ['in 1', 'up undefined']);
});

for (const [label, aAddr, bAddr] of [['caller A higher', 0x0a000009, 0x0a000002], ['caller B higher', 0x0a000001, 0x0a000002]] as const) {
  test(`simultaneous open settles on one connection (${label})`, () => {
    for (const loss of [0, 0.3]) {
      for (let seed = 1; seed <= (loss === 0 ? 2 : 12); seed++) {
        const clock = new FakeClock();
        const hub = new MemoryHub({ clock, seed, loss, delayMs: 5, reorder: 0.2 });
        const a = makeNode(hub, clock, 'a', aAddr, seed + 100);
        const b = makeNode(hub, clock, 'b', bAddr, seed + 200);
        a.ep.listen(PORT);
        b.ep.listen(PORT);
        const first = seed % 2 === 0 ? a : b;
        const second = first === a ? b : a;
        const h1 = first.ep.connect({ remoteAddress: (first === a ? bAddr : aAddr), remotePort: PORT, localPort: PORT, ipa: 1, link: hub.peer(second.name) });
        const h2 = second.ep.connect({ remoteAddress: (second === a ? bAddr : aAddr), remotePort: PORT, localPort: PORT, ipa: 2, link: hub.peer(first.name) });
        const settled = () => first.rec.connected.length + first.rec.failed.length >= 1 && second.rec.connected.length + second.rec.failed.length >= 1;
        assert.ok(run(hub, clock, [a, b], settled, 20000), `seed ${seed} settles`);
        hub.loss = 0;
        run(hub, clock, [a, b], () => false, 20000); // let resets and probes clean up
        assert.equal(first.rec.connected.filter((c) => c.handle === h1).length + first.rec.failed.filter((f) => f.handle === h1).length, 1);
        assert.equal(second.rec.connected.filter((c) => c.handle === h2).length + second.rec.failed.filter((f) => f.handle === h2).length, 1);
        const ca = a.ep.connections();
        const cb = b.ep.connections();
        assert.ok(ca.length <= 1 && cb.length === ca.length, `seed ${seed} loss ${loss}: ${ca.length} vs ${cb.length}`);
        if (ca.length === 1) {
          assert.equal(ca[0]!.remoteConnId, cb[0]!.connId);
          assert.equal(cb[0]!.remoteConnId, ca[0]!.connId);
        }
        if (loss === 0) {
          assert.equal(ca.length, 1);
          assert.equal(a.rec.incoming.length + b.rec.incoming.length, 0, 'the crossing calls never reach the managers');
          assert.equal(a.rec.connected.length, 1);
          assert.equal(b.rec.connected.length, 1);
          assert.ok(a.rec.connected[0]!.handle !== undefined && b.rec.connected[0]!.handle !== undefined);
        }
      }
    }
  });
}

test('disconnect tells the peer at once; traffic on a forgotten connection is reset', () => {
  const { clock, hub, a, b } = pair();
  b.ep.listen(PORT);
  a.ep.connect({ remoteAddress: B_ADDR, remotePort: PORT, localPort: PORT, ipa: 1, link: hub.peer('b') });
  run(hub, clock, [a, b], () => a.rec.connected.length === 1, 1000);
  const ca = a.rec.connected[0]!.conn;
  assert.equal(a.ep.disconnect(ca.connId, Reason.NORMAL), true);
  assert.equal(a.ep.disconnect(ca.connId), false);
  run(hub, clock, [a, b], () => b.rec.disconnected.length === 1, 10);
  assert.deepEqual(b.rec.disconnected[0], { connId: b.rec.connected[0]!.conn.connId, reason: Reason.NORMAL, byPeer: true });
  assert.deepEqual(a.rec.disconnected[0], { connId: ca.connId, reason: Reason.NORMAL, byPeer: false });

  // B restarts and forgets everything: A's next packet is answered with a reset, and A lets go.
  a.ep.connect({ remoteAddress: B_ADDR, remotePort: PORT, localPort: PORT, ipa: 1, link: hub.peer('b') });
  run(hub, clock, [a, b], () => a.rec.connected.length === 2, 1000);
  hub.detach('b');
  const b2 = makeNode(hub, clock, 'b', B_ADDR, 99);
  const c2 = a.rec.connected[1]!.conn;
  const packet = new Uint8Array(64);
  a.ep.send(c2.connId, packet, DATA_HEADER_SIZE, 10);
  run(hub, clock, [a, b2], () => a.rec.disconnected.length === 2, 100);
  assert.deepEqual(a.rec.disconnected[1], { connId: c2.connId, reason: Reason.UNKNOWN_CONNECTION, byPeer: true });
  assert.ok(b2.ep.counters.resetsSent >= 1);
  assert.equal(a.ep.connections().length, 0);
});

test('a datagram handed over inside a receive slab: a whole packet reaches the data event where it lies, segments are joined', () => {
  const clock = new FakeClock();
  const wireA: Uint8Array[] = [];
  const wireB: Uint8Array[] = [];
  const got: Array<{ buf: Uint8Array; offset: number; length: number; copy: Uint8Array }> = [];
  const quiet = { incomingCall() {}, connected() {}, callFailed() {}, disconnected() {}, idle() {}, echoReply() {} };
  const a = new MsnlEndpoint<string>({ localAddress: A_ADDR, clock, random: seededRandom(1), transmit: (_l, x, o, n) => wireA.push(x.slice(o, o + n)), events: { ...quiet, data() {} } });
  const b = new MsnlEndpoint<string>({
    localAddress: B_ADDR, clock, random: seededRandom(2), transmit: (_l, x, o, n) => wireB.push(x.slice(o, o + n)),
    events: { ...quiet, data: (_id, buf, offset, length) => got.push({ buf, offset, length, copy: buf.slice(offset, offset + length) }) },
  });
  b.listen(PORT);
  a.connect({ remoteAddress: B_ADDR, remotePort: PORT, localPort: PORT, ipa: 1, link: 'b' });
  b.receive(wireA.shift()!, 'a');
  b.accept(1);
  a.receive(wireB.shift()!, 'b');
  const conn = a.connections()[0]!.connId;
  const slab = new Uint8Array(8192);
  // One datagram: the data event sees the slab itself, just past the data header.
  const small = new Uint8Array(DATA_HEADER_SIZE + 100).map((_, i) => i);
  assert.equal(a.send(conn, small, DATA_HEADER_SIZE, 100), true);
  const frame = wireA.shift()!;
  slab.set(frame, 300);
  b.receiveFrame(slab, 300, frame.length, 'a');
  assert.equal(got.length, 1);
  assert.equal(got[0]!.buf, slab, 'no copy and no view: the receive buffer itself');
  assert.equal(got[0]!.offset, 300 + DATA_HEADER_SIZE);
  assert.deepEqual(got[0]!.copy, small.subarray(DATA_HEADER_SIZE));
  // Three datagrams at odd places in the slab: the packet comes out whole from the reassembler.
  const big = new Uint8Array(DATA_HEADER_SIZE + 3000).map((_, i) => (i * 7) & 0xff);
  assert.equal(a.send(conn, big, DATA_HEADER_SIZE, 3000), true);
  assert.equal(wireA.length, 3);
  let at = 1;
  for (const segment of wireA.splice(0)) {
    slab.set(segment, at);
    b.receiveFrame(slab, at, segment.length, 'a');
    at += segment.length + 3;
  }
  assert.equal(got.length, 2);
  assert.notEqual(got[1]!.buf, slab);
  assert.deepEqual(got[1]!.copy, big.subarray(DATA_HEADER_SIZE));
});

test('the reset is never larger than what provoked it, and it is rate-limited', () => {
  const clock = new FakeClock();
  const out: Uint8Array[] = [];
  const ep = new MsnlEndpoint<number>({
    localAddress: B_ADDR, clock, random: seededRandom(3), transmit: (_l, buf, o, n) => out.push(buf.slice(o, o + n)),
    events: { incomingCall() {}, connected() {}, callFailed() {}, data() {}, disconnected() {}, idle() {}, echoReply() {} },
  });
  const frame = new Uint8Array(DATA_HEADER_SIZE + 1);
  writeDataHeader(frame, 0, 0x1234, 0, 1, 0);
  ep.receive(frame, 1);
  assert.equal(out.length, 1);
  assert.equal(out[0]!.length, RESET_SIZE);
  assert.ok(out[0]!.length <= frame.length);
  assert.deepEqual(decodeMessage(out[0]!), { ok: true, msg: { type: 5, reason: Reason.UNKNOWN_CONNECTION, connId: 0x1234 } });
  ep.receive(encodeProbe(8, 0x99, 1, 1), 1);
  assert.equal(out.length, 2);
  for (let i = 0; i < 1000; i++) ep.receive(frame, 1);
  assert.equal(ep.counters.resetsSent, 10, 'the burst');
  assert.equal(ep.counters.resetsRateLimited, 992);
  clock.t += 1000;
  for (let i = 0; i < 100; i++) ep.receive(frame, 1);
  assert.equal(ep.counters.resetsSent, 20, 'refilled at 20 per second up to the burst');
  ep.receive(frame.subarray(0, 7), 1);
  assert.equal(ep.counters.dropMalformed, 1);
  assert.equal(ep.counters.dropUnknownConnection, 1102);
});

test('every endpoint answers echo requests addressed to it', () => {
  const { clock, hub, a, b } = pair();
  const payload = new TextEncoder().encode('are you there');
  const ident = a.ep.echo(B_ADDR, hub.peer('b'), payload);
  run(hub, clock, [a, b], () => a.rec.echoes.length === 1, 100);
  assert.equal(a.rec.echoes[0]!.ident, ident);
  assert.equal(a.rec.echoes[0]!.from, B_ADDR);
  assert.equal(a.rec.echoes[0]!.rttMs, 10);
  assert.deepEqual([...a.rec.echoes[0]!.payload], [...payload]);
  a.ep.echo(0x0a0000ff, hub.peer('b'), payload);
  run(hub, clock, [a, b], () => false, 5000);
  assert.equal(b.ep.counters.dropWrongAddress, 1);
  assert.equal(a.rec.echoes.length, 1);
});

test('health: both directions proven by probes, rtt and loss measured, idle after no data', () => {
  const { clock, hub, a, b } = pair(5, 0, { probeIntervalMs: 1000, healthWindowMs: 3000, idleMs: 60000, deadMs: 0 });
  b.ep.listen(PORT);
  a.ep.connect({ remoteAddress: B_ADDR, remotePort: PORT, localPort: PORT, ipa: 1, link: hub.peer('b') });
  run(hub, clock, [a, b], () => a.rec.connected.length === 1, 1000);
  const id = a.rec.connected[0]!.conn.connId;
  run(hub, clock, [a, b], () => false, 10000);
  const h = a.ep.health(id)!;
  assert.equal(h.up, true);
  assert.equal(h.txProven && h.rxProven, true);
  assert.equal(h.rttMs, 10);
  assert.equal(h.lossRatio, 0);
  assert.ok(h.lastHeardMs < 1000);
  assert.equal(b.ep.health(b.rec.connected[0]!.conn.connId)!.up, true);
  assert.equal(a.ep.health(12345), undefined);
  hub.loss = 1;
  run(hub, clock, [a, b], () => false, 5000);
  const down = a.ep.health(id)!;
  assert.equal(down.up, false);
  assert.equal(down.txProven, false);
  assert.ok(down.lossRatio > 0.1, `loss ${down.lossRatio}`);
  assert.ok(down.lastHeardMs >= 4000);
  hub.loss = 0;
  assert.deepEqual(a.rec.idle, []);
  run(hub, clock, [a, b], () => a.rec.idle.length > 0, 60000);
  assert.deepEqual(a.rec.idle, [id], 'probes do not count as data');
  assert.equal(a.ep.health(id)!.up, true);
  a.ep.send(id, new Uint8Array(40), DATA_HEADER_SIZE, 20);
  run(hub, clock, [a, b], () => false, 30000);
  assert.deepEqual(a.rec.idle, [id], 'data re-arms, and idle fires only after a full idle time');
});

test('a connection that hears nothing for deadMs is released as dead', () => {
  const { clock, hub, a, b } = pair(6, 0, { probeIntervalMs: 1000, deadMs: 8000 });
  b.ep.listen(PORT);
  a.ep.connect({ remoteAddress: B_ADDR, remotePort: PORT, localPort: PORT, ipa: 1, link: hub.peer('b') });
  run(hub, clock, [a, b], () => a.rec.connected.length === 1, 1000);
  hub.loss = 1;
  run(hub, clock, [a, b], () => a.rec.disconnected.length === 1 && b.rec.disconnected.length === 1, 20000);
  assert.equal(a.rec.disconnected[0]!.reason, Reason.DEAD);
  assert.equal(b.rec.disconnected[0]!.reason, Reason.DEAD);
});

for (const loss of [0, 0.3]) {
  test(`1000 calls with ${loss * 100}% loss each way all complete or time out, never hang`, () => {
    // The call machinery under load, not the per-source call limit: 1000 calls from one host at once.
    const { clock, hub, a, b } = pair(42, loss, { callBurstPerSource: 100000, callBurstTotal: 100000 });
    hub.duplicate = loss / 3;
    hub.reorder = loss;
    b.ep.listen(PORT);
    b.decideDelayMs = 30;
    const handles = new Set<number>();
    for (let i = 0; i < 1000; i++) {
      handles.add(a.ep.connect({ remoteAddress: B_ADDR, remotePort: PORT, localPort: 0x10000 + i, ipa: 1, link: hub.peer('b') }));
      if (i % 50 === 49) clock.t += 10;
    }
    const resolved = () => a.rec.connected.length + a.rec.failed.length;
    assert.ok(run(hub, clock, [a, b], () => resolved() === 1000, 60000), `resolved ${resolved()}`);
    const seen = new Set([...a.rec.connected.map((c) => c.handle!), ...a.rec.failed.map((f) => f.handle)]);
    assert.equal(resolved(), 1000);
    assert.deepEqual(seen, handles, "each handle resolved exactly once");
    for (const f of a.rec.failed) assert.equal(f.reason, 'timeout');
    if (loss === 0) assert.equal(a.rec.connected.length, 1000);
    else assert.ok(a.rec.connected.length > 900, `connected ${a.rec.connected.length}`);
    assert.equal(a.ep.calls().length, 0);
    // Let stale state settle with the loss still on: both sides agree on the connections.
    run(hub, clock, [a, b], () => false, 30000);
    hub.loss = 0;
    run(hub, clock, [a, b], () => false, 10000);
    const idsA = a.ep.connections().map((c) => `${c.connId}-${c.remoteConnId}`).sort();
    const idsB = b.ep.connections().map((c) => `${c.remoteConnId}-${c.connId}`).sort();
    assert.deepEqual(idsA, idsB);
    assert.equal(b.ep.calls().length, 0);
  });
}

test('health stays up against a peer that probes at the slowest rate msnl(7) allows', () => {
  const clock = new FakeClock();
  // Up to 80 ms of jitter on half the datagrams, as timers and queues give a real peer.
  const hub = new MemoryHub({ clock, seed: 9, loss: 0, delayMs: 5, reorder: 0.5, reorderMs: 80 });
  const slow = makeNode(hub, clock, 'a', A_ADDR, 91, { probeIntervalMs: MAX_PROBE_INTERVAL_MS, deadMs: 0 });
  const b = makeNode(hub, clock, 'b', B_ADDR, 92, { deadMs: 0 });
  b.ep.listen(PORT);
  slow.ep.connect({ remoteAddress: B_ADDR, remotePort: PORT, localPort: PORT, ipa: 1, link: hub.peer('b') });
  run(hub, clock, [slow, b], () => b.rec.connected.length === 1, 1000);
  const id = b.rec.connected[0]!.conn.connId;
  run(hub, clock, [slow, b], () => b.ep.health(id)?.up === true, 10000);
  let downSamples = 0;
  for (let t = 0; t < 60000; t += 10) {
    run(hub, clock, [slow, b], () => false, 10);
    if (b.ep.health(id)?.up !== true) downSamples++;
  }
  assert.equal(downSamples, 0, 'never half or down over 60 s');
  // And a silent peer is still noticed: with no probes at all, rx is no longer proven after 12.5 s.
  hub.loss = 1;
  run(hub, clock, [slow, b], () => false, MAX_PROBE_INTERVAL_MS * PEER_INTERVAL_TOLERANCE + 100);
  assert.equal(b.ep.health(id)?.rxProven, false);
});

test('a flood of connect requests from one source is bounded before any state is made; other callers still get through', () => {
  const { clock, hub, a, b } = pair(12);
  b.ep.listen(PORT);
  b.policy = 'refuse';
  const flooder = hub.attach('x');
  // 10 000 requests in one second of fake time, each claiming another MSNL address and transaction.
  for (let i = 0; i < 10000; i++) {
    if (i % 100 === 0) clock.t += 10;
    const request = encodeSignal({ type: MsgType.CONNECT_REQUEST, reason: 0, transaction: 0x1000 + i, origAddr: 0x0b000000 + i, origPort: PORT, respAddr: B_ADDR, respPort: PORT, ipa: 0x0a0a0000 + i, origConnId: 0x5000 + i, respConnId: 0 });
    flooder.send(hub.peer('b'), request);
    hub.deliverDue();
  }
  run(hub, clock, [a, b], () => false, 10);
  const limit = DEFAULT_ENDPOINT_CONFIG.callBurstPerSource + DEFAULT_ENDPOINT_CONFIG.callRatePerSource * 1.1;
  assert.ok(b.rec.incoming.length <= limit, `${b.rec.incoming.length} calls reached the manager (limit ${limit})`);
  assert.ok(b.ep.counters.requestsRateLimited >= 10000 - limit, `${b.ep.counters.requestsRateLimited} counted`);
  // A real caller from another underlay source is not held up by the flood.
  b.policy = 'accept';
  a.ep.connect({ remoteAddress: B_ADDR, remotePort: PORT, localPort: PORT, ipa: 1, link: hub.peer('b') });
  assert.ok(run(hub, clock, [a, b], () => a.rec.connected.length === 1, 2000), 'the real call completes');
});
