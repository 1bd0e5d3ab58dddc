import { test } from 'node:test';
import assert from 'node:assert/strict';
import { MemoryHub } from '../../src/msdl/memory.js';
import { MsgType, Reason } from '../../src/msnl/constants.js';
import { ACK_PROBE_CODE, ASK_PROBE_CODE, encodeProbe, encodeReset } from '../../src/msnl/wire.js';
import { probeInterval } from '../../src/msnl/liveness.js';
import { DEFAULT_ENDPOINT_CONFIG } from '../../src/msnl/types.js';
import { FakeClock, makeNode, run } from './harness.js';

const A = 0x80e80001;
const B = 0x80e80002;

test('the endpoint asks to be woken at its next deadline, and a tick before it sends nothing', () => {
  const clock = new FakeClock();
  const hub = new MemoryHub({ clock, seed: 1, loss: 0, delayMs: 1 });
  const wakes: number[] = [];
  const a = makeNode(hub, clock, 'a', A, 1, { probeIntervalMs: 2000 }, { capture: true, wake: (at) => wakes.push(at) });
  const b = makeNode(hub, clock, 'b', B, 2, { probeIntervalMs: 2000 });
  b.ep.listen(0x1234);
  const COUNT = 50;
  for (let i = 0; i < COUNT; i++) a.ep.connect({ remoteAddress: B, remotePort: 0x1234, localPort: 0x1000 + i, ipa: 1, link: hub.peer('b') });
  assert.ok(wakes.length > 0 && (wakes[0] as number) <= clock.t + 1000, 'a call asks for a wake-up for its retry');
  assert.ok(run(hub, clock, [a, b], () => a.rec.connected.length === COUNT, 5000));
  assert.equal(a.ep.connectionCount, COUNT);
  // Every connection probed at once; the next deadline is a probe interval on.
  run(hub, clock, [a, b], () => false, 100);
  const next = a.ep.nextDeadline();
  assert.ok(next > clock.t && next <= clock.t + 2000, `next deadline ${next - clock.t} ms on`);
  wakes.length = 0;
  a.sent.length = 0;
  a.ep.tick();
  assert.equal(a.sent.length, 0, 'nothing due: a tick sends nothing');
  assert.deepEqual(wakes, [next], 'and asks again for the same deadline');
  clock.t = next;
  a.ep.tick();
  const probes = a.sent.filter((s) => s.bytes[1] === MsgType.PROBE).length;
  assert.ok(probes >= 1 && probes <= COUNT, `the due connections probe (${probes})`);
  assert.ok(a.ep.nextDeadline() > clock.t);
});

test('size probes of all connections keep to the budget: the rest wait their turn, and every search finishes', () => {
  const clock = new FakeClock();
  const hub = new MemoryHub({ clock, seed: 3, loss: 0, delayMs: 1 });
  const budget = { sizeProbeRatePerSecond: 20, sizeProbeBurst: 10, firstSizeProbeMs: 100, callBurstPerSource: 1000, callBurstTotal: 1000 };
  const a = makeNode(hub, clock, 'a', A, 1, budget, { capture: true });
  // 30 paths (the connections of one path share one search, path-cache.ts), two connections each.
  const PATHS = 30;
  const COUNT = 2 * PATHS;
  const callees = Array.from({ length: PATHS }, (_, i) => makeNode(hub, clock, `b${i}`, B + i, 2 + i));
  for (const b of callees) b.ep.listen(0x1234);
  for (let i = 0; i < COUNT; i++) a.ep.connect({ remoteAddress: B + (i % PATHS), remotePort: 0x1234, localPort: 0x1000 + i, ipa: 1, link: hub.peer(`b${i % PATHS}`) });
  assert.ok(run(hub, clock, [a, ...callees], () => a.rec.connected.length === COUNT, 5000));
  const start = clock.t;
  a.sent.length = 0;
  run(hub, clock, [a, ...callees], () => false, 1000);
  const sized = a.sent.filter((s) => s.bytes[1] === MsgType.PROBE && s.bytes[3] === 1).length;
  // Over 1 s at most the burst plus a second's rate (and the storm needs far more than that).
  assert.ok(sized >= 10 && sized <= 10 + 20 + 1, `${sized} size probes in the first second`);
  // Each path's search needs at least two probes (1232, then the starting size): at 20 a
  // second the 30 paths are done after some 3 s, and no connection is left out.
  const searching = (): number => a.ep.connections().filter((c) => a.ep.health(c.connId)?.pathPhase !== 'done').length;
  run(hub, clock, [a, ...callees], () => searching() === 0, 30_000);
  assert.equal(searching(), 0, 'every connection found its size');
  assert.ok(a.ep.counters.sizeProbesAnswered >= 2 * PATHS, `${a.ep.counters.sizeProbesAnswered} size probes answered`);
  assert.ok(a.ep.counters.sizeProbesSent < 2 * 2 * PATHS, `one search per path, not per connection (${a.ep.counters.sizeProbesSent} probes)`);
  assert.ok(clock.t - start >= 2000, `and they kept to the rate (${clock.t - start} ms)`);
});

test('the probe interval stretches with many connections (at most probesPerSecond in all), never beyond 5 s, and health follows it', () => {
  const config = { ...DEFAULT_ENDPOINT_CONFIG, probeIntervalMs: 2000, probesPerSecond: 1000 };
  assert.equal(probeInterval(config, 1), 2000);
  assert.equal(probeInterval(config, 2000), 2000);
  assert.equal(probeInterval(config, 3000), 3000);
  assert.equal(probeInterval(config, 20_000), 5000, 'msnl(7): at least every 5 s');
  assert.equal(probeInterval(config, 2500), 3000, 'a stretch is rounded up to whole seconds (the grid), never over the budget');
  assert.equal(probeInterval(config, 4001), 5000);
  assert.equal(probeInterval({ ...config, probeIntervalMs: 300 }, 1), 300, 'an interval under a second is kept as it is');
  const clock = new FakeClock();
  const hub = new MemoryHub({ clock, seed: 4, loss: 0, delayMs: 1 });
  const a = makeNode(hub, clock, 'a', A, 1, { probesPerSecond: 1 }, { capture: true });
  const b = makeNode(hub, clock, 'b', B, 2);
  b.ep.listen(0x1234);
  for (let i = 0; i < 4; i++) a.ep.connect({ remoteAddress: B, remotePort: 0x1234, localPort: 0x1000 + i, ipa: 1, link: hub.peer('b') });
  assert.ok(run(hub, clock, [a, b], () => a.rec.connected.length === 4, 5000));
  a.sent.length = 0;
  run(hub, clock, [a, b], () => false, 20_000);
  const probes = a.sent.filter((s) => s.bytes[1] === MsgType.PROBE && (s.bytes[3] === 0 || s.bytes[3] === ACK_PROBE_CODE || s.bytes[3] === ASK_PROBE_CODE)).length;
  // 4 connections at 1 probe a second in all: each interval stretches to 4 s (not the 2 s asked).
  assert.ok(probes >= 4 * 4 && probes <= 4 * 6, `${probes} probes in 20 s`);
  for (const c of a.ep.connections()) {
    assert.equal(a.ep.health(c.connId)?.up, true, 'up');
    assert.equal(a.ep.isUp(c.connId), true);
  }
  // Our window is 2.5 of our own (stretched) interval: 10 s, not the configured 5 s.
  hub.detach('b'); // b hears nothing more: our probes go unanswered
  run(hub, clock, [a, b], () => false, 6000);
  assert.equal(a.ep.health(a.ep.connections()[0]!.connId)?.txProven, true, 'still proven 6 s into a partition');
  run(hub, clock, [a, b], () => false, 6000);
  assert.equal(a.ep.health(a.ep.connections()[0]!.connId)?.txProven, false, 'not after 12 s');
  assert.equal(a.ep.isUp(a.ep.connections()[0]!.connId), false);
});

test('a reset of a callee\'s connection that never heard its caller is that call given up (reason 7), not a lost peer (reason 5)', () => {
  const clock = new FakeClock();
  const hub = new MemoryHub({ clock, seed: 5, loss: 0, delayMs: 1 });
  const a = makeNode(hub, clock, 'a', A, 1);
  const b = makeNode(hub, clock, 'b', B, 2);
  b.ep.listen(0x1234);
  for (const port of [0x1000, 0x1001]) a.ep.connect({ remoteAddress: B, remotePort: 0x1234, localPort: port, ipa: 1, link: hub.peer('b') });
  assert.ok(run(hub, clock, [a, b], () => a.rec.connected.length === 2, 5000));
  const heard = b.ep.connections()[0]!;
  // b's connections hear a's first probes within a's first interval (2 s).
  run(hub, clock, [a, b], () => false, 2100);
  assert.ok((b.ep.findConnection(heard.connId)?.lastHeardAt ?? 0) > heard.createdAt, 'b heard its caller');
  b.ep.receive(encodeReset(heard.remoteConnId, Reason.UNKNOWN_CONNECTION), hub.peer('a'));
  assert.deepEqual(b.rec.disconnected.at(-1), { connId: heard.connId, reason: Reason.UNKNOWN_CONNECTION, byPeer: true }, 'a connection that had heard its caller: the peer lost it');
  const c = makeNode(hub, clock, 'c', 0x80e80003, 6, { callBurstPerSource: 100 });
  c.ep.listen(0x1234);
  a.ep.connect({ remoteAddress: 0x80e80003, remotePort: 0x1234, localPort: 0x1002, ipa: 1, link: hub.peer('c') });
  // Stopped the moment c accepts: its confirm, and a's first probe, are still in flight.
  assert.ok(run(hub, clock, [a, c], () => c.ep.connectionCount === 1, 5000), 'c accepted');
  const opened = c.ep.connections()[0]!;
  c.ep.receive(encodeReset(opened.remoteConnId, Reason.UNKNOWN_CONNECTION), hub.peer('a'));
  assert.deepEqual(c.rec.disconnected.at(-1), { connId: opened.connId, reason: Reason.TIMEOUT, byPeer: true }, 'reset before anything was heard: the caller gave up');
});

test('the call counts as proof of both directions at each end: the caller probes first within one interval, the callee only after the caller (msnl(7) Probes)', () => {
  const clock = new FakeClock();
  const hub = new MemoryHub({ clock, seed: 7, loss: 0, delayMs: 1 });
  const a = makeNode(hub, clock, 'a', A, 1, { probeIntervalMs: 2000 }, { capture: true });
  const b = makeNode(hub, clock, 'b', B, 2, { probeIntervalMs: 2000 }, { capture: true });
  b.ep.listen(0x1234);
  const COUNT = 40;
  for (let i = 0; i < COUNT; i++) a.ep.connect({ remoteAddress: B, remotePort: 0x1234, localPort: 0x1000 + i, ipa: 1, link: hub.peer('b') });
  assert.ok(run(hub, clock, [a, b], () => a.rec.connected.length === COUNT, 5000));
  const isProbe = (s: { bytes: Uint8Array }): boolean => s.bytes[1] === MsgType.PROBE && (s.bytes[3] === 0 || s.bytes[3] === ACK_PROBE_CODE || s.bytes[3] === ASK_PROBE_CODE);
  for (const { conn } of a.rec.connected) assert.equal(a.ep.health(conn.connId)?.up, true, 'the caller is up the moment its confirm arrives');
  assert.equal(a.sent.filter(isProbe).length, 0, 'and sent no probe for it');
  run(hub, clock, [a, b], () => false, 10);
  assert.equal(b.sent.filter(isProbe).length, 0, 'the callee sends no probe while the calls are set up');
  for (const c of b.ep.connections()) assert.equal(b.ep.health(c.connId)?.up, true, 'and is up from its accept');
  // The caller's first probes: between half and the whole interval on, spread over the 100 ms grid;
  // the callee's own first probes half an interval later (from the whole interval on).
  const perStep: number[] = [];
  for (let step = 0; step < 22; step++) {
    const before = a.sent.filter(isProbe).length;
    run(hub, clock, [a, b], () => false, 100);
    perStep.push(a.sent.filter(isProbe).length - before);
    for (const { conn } of a.rec.connected) assert.equal(a.ep.isUp(conn.connId), true, `still up ${clock.t} ms on`);
    for (const c of b.ep.connections()) assert.equal(b.ep.isUp(c.connId), true, `the callee still up ${clock.t} ms on`);
    if (step === 18) assert.equal(b.sent.filter(isProbe).length, 0, 'no callee probe in the first 1.9 s');
  }
  for (const c of b.ep.connections()) assert.ok((b.ep.findConnection(c.connId)?.lastHeardAt ?? 0) > c.createdAt, 'every callee heard its caller\'s first probe');
  assert.equal(perStep.slice(0, 9).reduce((x, y) => x + y, 0), 0, `no caller probe in the first 0.9 s (${perStep.join(' ')})`);
  assert.equal(perStep.reduce((x, y) => x + y, 0), COUNT, `one first probe each within the interval (${perStep.join(' ')})`);
  assert.ok(perStep.filter((n) => n > 0).length >= 5, `spread over the grid, not all at once (${perStep.join(' ')})`);
  assert.ok(perStep.every((n) => n < COUNT / 2), `(${perStep.join(' ')})`);
});

test('a callee counts its accept as proof of what it sends for one window, and the caller\'s first frame on the new connection as the proof; without either it goes down', () => {
  const clock = new FakeClock();
  const hub = new MemoryHub({ clock, seed: 8, loss: 0, delayMs: 1 });
  const a = makeNode(hub, clock, 'a', A, 1);
  const b = makeNode(hub, clock, 'b', B, 2);
  b.ep.listen(0x1234);
  a.ep.connect({ remoteAddress: B, remotePort: 0x1234, localPort: 0x1000, ipa: 1, link: hub.peer('b') });
  assert.ok(run(hub, clock, [a, b], () => b.ep.connectionCount === 1, 5000), 'b accepted');
  const opened = b.ep.connections()[0]!;
  assert.deepEqual([b.ep.health(opened.connId)?.rxProven, b.ep.health(opened.connId)?.txProven], [true, true], 'the request proved what b receives, its confirm (provisionally) what it sends');
  // A frame naming b's id, which only b's confirm told a: b's confirm arrived.
  run(hub, clock, [b], () => false, 1000);
  b.ep.receive(encodeProbe(MsgType.PROBE, opened.connId, 0, 0), hub.peer('a'));
  assert.equal(b.ep.health(opened.connId)?.up, true, 'up on the caller\'s first probe, before its own is answered');
  // A second frame proves no more than the first: the proof stays dated by it and lapses.
  hub.detach('a');
  run(hub, clock, [b], () => false, 5000 + 100);
  b.ep.receive(encodeProbe(MsgType.PROBE, opened.connId, 1, 0), hub.peer('a'));
  assert.deepEqual([b.ep.health(opened.connId)?.rxProven, b.ep.health(opened.connId)?.txProven], [true, false], 'later frames prove only what b receives');
  // A caller that goes silent after the call: the provisional proof lapses with the window.
  const c = makeNode(hub, clock, 'c', 0x80e80003, 9);
  c.ep.listen(0x1234);
  const d = makeNode(hub, clock, 'd', 0x80e80004, 10);
  d.ep.connect({ remoteAddress: 0x80e80003, remotePort: 0x1234, localPort: 0x1000, ipa: 1, link: hub.peer('c') });
  assert.ok(run(hub, clock, [c, d], () => c.ep.connectionCount === 1, 5000), 'c accepted');
  const silent = c.ep.connections()[0]!;
  hub.detach('d');
  run(hub, clock, [c], () => false, 8000);
  assert.equal(c.ep.health(silent.connId)?.txProven, false, 'no frame from the caller and no reply: what c sends is not proven 8 s on');
  assert.equal(c.ep.isUp(silent.connId), false);
});

test('steady probes fall on whole seconds of the clock, all of them in one batch (one wake-up a second), at the interval', () => {
  const clock = new FakeClock();
  clock.t = 1_000_037; // not on a whole second
  const hub = new MemoryHub({ clock, seed: 9, loss: 0, delayMs: 1 });
  const a = makeNode(hub, clock, 'a', A, 1, { probeIntervalMs: 2000 }, { capture: true });
  const b = makeNode(hub, clock, 'b', B, 2, { probeIntervalMs: 2000 });
  b.ep.listen(0x1234);
  const COUNT = 30;
  for (let i = 0; i < COUNT; i++) a.ep.connect({ remoteAddress: B, remotePort: 0x1234, localPort: 0x1000 + i, ipa: 1, link: hub.peer('b') });
  assert.ok(run(hub, clock, [a, b], () => a.rec.connected.length === COUNT, 5000));
  // Past the first probes (spread over the 100 ms grid), every later one is due on a whole second.
  run(hub, clock, [a, b], () => false, 4000);
  const isProbe = (s: { bytes: Uint8Array }): boolean => s.bytes[1] === MsgType.PROBE && (s.bytes[3] === 0 || s.bytes[3] === ACK_PROBE_CODE || s.bytes[3] === ASK_PROBE_CODE);
  const sentAt = new Map<number, number>();
  let seen = a.sent.length;
  run(hub, clock, [a, b], () => {
    const probes = a.sent.slice(seen).filter(isProbe).length;
    seen = a.sent.length;
    if (probes > 0) sentAt.set(clock.t, (sentAt.get(clock.t) ?? 0) + probes);
    return false;
  }, 6000);
  assert.ok(sentAt.size > 0, 'the callers probed');
  for (const at of sentAt.keys()) assert.ok(at % 1000 < 25, `a probe at ${at} (${at % 1000} ms past the second)`);
  assert.ok(sentAt.size <= 6, `in at most one batch a second (${[...sentAt].join(' ')})`);
  const total = [...sentAt.values()].reduce((x, y) => x + y, 0);
  assert.ok(total >= COUNT * 2 && total <= COUNT * 3, `one probe each per 2 s (${total} in 6 s)`);
  for (const { conn } of a.rec.connected) assert.equal(a.ep.isUp(conn.connId), true);
});
