import { test } from 'node:test';
import assert from 'node:assert/strict';
import { MemoryHub } from '../../src/msdl/memory.js';
import { DATA_HEADER_SIZE } from '../../src/msnl/constants.js';
import { BASE_DATAGRAM, CONFIRM_INTERVAL_MS, MAX_PROBES, MIN_DATAGRAM, PathMtu, PROBE_TIMEOUT_MS, RAISE_INTERVAL_MS, SEARCH_GRANULARITY } from '../../src/msnl/pmtu.js';
import { decodeMessage, encodeSizeProbe } from '../../src/msnl/wire.js';
import { FakeClock, makeNode, run } from './harness.js';

/** Drives a PathMtu against a path that carries datagrams up to `carries` (answers in 10 ms). */
function drive(path: PathMtu, carries: () => number, from: number, untilMs: number): number {
  let now = from;
  for (let steps = 0; steps < 10_000 && now < from + untilMs; steps++) {
    const size = path.probe(now);
    if (size > 0 && size <= carries()) path.answered(path.seq, now + 10);
    now = Math.max(now + 1, Math.min(path.nextProbeAt, from + untilMs));
  }
  return now;
}

test('the search confirms the base size, tries the link size, and settles within the granularity of what the path carries', () => {
  const path = new PathMtu(1472, 0);
  assert.equal(path.phase, 'base');
  assert.equal(path.maxDatagram, 1472, 'data starts at the link size');
  drive(path, () => 1300, 0, 60_000);
  assert.equal(path.phase, 'done');
  assert.ok(path.maxDatagram <= 1300 && path.maxDatagram > 1300 - SEARCH_GRANULARITY, `settled at ${path.maxDatagram}`);
  // A clean path: the top is confirmed at once, two probes in all.
  const clean = new PathMtu(1472, 0);
  drive(clean, () => 1472, 0, 5000);
  assert.equal(clean.phase, 'done');
  assert.equal(clean.maxDatagram, 1472);
  assert.equal(clean.probesSent, 2);
});

test('a black hole: data leaves the lost size after MAX_PROBES lost probes, without any report', () => {
  const path = new PathMtu(1472, 0);
  // Base answered at once, then the top is lost MAX_PROBES times.
  let now = 0;
  assert.equal(path.probe(now), BASE_DATAGRAM);
  assert.ok(path.answered(path.seq, now + 5));
  now += 5;
  assert.equal(path.probe(now), 1472);
  for (let i = 1; i < MAX_PROBES; i++) {
    now += PROBE_TIMEOUT_MS;
    assert.equal(path.probe(now), 1472, 'the same size again');
    assert.equal(path.maxDatagram, 1472);
  }
  now += PROBE_TIMEOUT_MS;
  const next = path.probe(now);
  assert.equal(path.maxDatagram, BASE_DATAGRAM, 'data falls back to the confirmed size');
  assert.ok(next > BASE_DATAGRAM && next < 1472, `the search goes on at ${next}`);
  assert.ok(now <= 2000, 'within 2 s of the first lost probe');
  // A settled path whose size stops getting through (a new black hole) starts over.
  const settled = new PathMtu(1472, 0);
  let carries = 1472;
  const t = drive(settled, () => carries, 0, 5000);
  assert.equal(settled.maxDatagram, 1472);
  carries = 1300;
  drive(settled, () => carries, t, CONFIRM_INTERVAL_MS + MAX_PROBES * PROBE_TIMEOUT_MS + 60_000);
  assert.ok(settled.maxDatagram <= 1300 && settled.maxDatagram > 1300 - SEARCH_GRANULARITY, `re-settled at ${settled.maxDatagram}`);
});

test('too-big reports lower at once, never below the floor; the raise timer finds room again', () => {
  const path = new PathMtu(8972, 0);
  path.tooBig(1372, 0);
  assert.equal(path.maxDatagram, 1372);
  path.tooBig(100, 0);
  assert.equal(path.maxDatagram, MIN_DATAGRAM, 'a forged tiny MTU is not believed');
  const other = new PathMtu(1472, 0);
  other.tooBig(0, 0);
  assert.equal(other.maxDatagram, BASE_DATAGRAM, 'a report without a size: the base size');
  other.tooBig(1472, 0);
  assert.equal(other.maxDatagram, BASE_DATAGRAM, 'a report never raises');
  // Settled at 1372 by the report; the link still allows 8972; after the raise timer the search
  // finds the path carries more now.
  const raised = new PathMtu(8972, 0);
  raised.tooBig(1372, 0);
  const t = drive(raised, () => 1372, 0, 10_000);
  assert.equal(raised.phase, 'done');
  assert.equal(raised.maxDatagram, 1372);
  drive(raised, () => 8972, t, RAISE_INTERVAL_MS + 30_000);
  assert.equal(raised.maxDatagram, 8972);
  const pinned = new PathMtu(1400, 0, true);
  assert.equal(pinned.probe(0), 0, 'a pinned size is not probed');
  pinned.tooBig(1300, 0);
  assert.equal(pinned.maxDatagram, 1300, 'but a report still lowers it');
});

test('size probe layout: code 1, zero padding to the size probed; the reply is 16 octets', () => {
  const probe = encodeSizeProbe(false, 0x22222222, 5, 0x12345, 1200);
  assert.equal(probe.length, 1200);
  assert.equal(Buffer.from(probe.subarray(0, 16)).toString('hex'), '010800012222222200000005' + '00012345');
  assert.ok(probe.subarray(16).every((b) => b === 0));
  const reply = encodeSizeProbe(true, 0x11111111, 5, 0x12345);
  assert.equal(Buffer.from(reply).toString('hex'), '01090001111111110000000500012345');
  const decoded = decodeMessage(probe);
  assert.ok(decoded.ok && decoded.msg.type === 8 && decoded.msg.sized === true && decoded.msg.seq === 5);
  const padded = new Uint8Array(100);
  padded.set(reply);
  assert.equal(decodeMessage(padded).ok, false, 'a padded reply is malformed');
  const healthPadded = new Uint8Array(100);
  healthPadded.set(reply);
  healthPadded[1] = 8;
  healthPadded[3] = 0;
  assert.equal(decodeMessage(healthPadded).ok, false, 'a padded health probe is malformed');
});

function connectedPair(carries: number, silent: boolean, keyedConfig = {}) {
  const clock = new FakeClock();
  const hub = new MemoryHub({ clock, seed: 3, delayMs: 5, maxDatagram: 65507 });
  const a = makeNode(hub, clock, 'a', 0x0a000001, 11, keyedConfig);
  const b = makeNode(hub, clock, 'b', 0x0a000002, 12, keyedConfig);
  b.ep.listen(0x800);
  a.ep.connect({ remoteAddress: 0x0a000002, remotePort: 0x800, localPort: 0x800, ipa: 1, link: hub.peer('b') });
  assert.ok(run(hub, clock, [a, b], () => a.rec.connected.length === 1 && b.rec.connected.length === 1, 1000));
  hub.limitPath('b', carries, silent);
  return { clock, hub, a, b, ca: a.rec.connected[0]!.conn };
}

test('endpoint over a reporting path: the report lowers the size at once, and every later 1500-octet packet arrives whole', () => {
  const { clock, hub, a, b, ca } = connectedPair(1400, false);
  const packet = new Uint8Array(1500).map((_, i) => i & 0xff);
  a.ep.send(ca.connId, packet, 0, packet.length); // the first segment is refused and reported
  assert.equal(a.ep.health(ca.connId)!.maxDatagram, 1400);
  for (let i = 0; i < 10; i++) a.ep.send(ca.connId, packet, 0, packet.length);
  run(hub, clock, [a, b], () => b.rec.data.length === 10, 1000);
  assert.equal(b.rec.data.length, 10);
  assert.ok(b.rec.data.every((d) => Buffer.compare(Buffer.from(d.bytes), Buffer.from(packet)) === 0));
  assert.equal(a.ep.counters.pathTooBig, 1);
});

test('endpoint over a black hole at 1300: size probes find the size, then every 1500-octet packet arrives', () => {
  const { clock, hub, a, b, ca } = connectedPair(1300, true);
  const packet = new Uint8Array(1500).fill(7);
  run(hub, clock, [a, b], () => a.ep.health(ca.connId)!.pathPhase === 'done', 30_000);
  const h = a.ep.health(ca.connId)!;
  assert.equal(h.pathPhase, 'done');
  assert.ok(h.maxDatagram <= 1300 && h.maxDatagram > 1300 - SEARCH_GRANULARITY, `found ${h.maxDatagram}`);
  assert.ok(a.ep.counters.sizeProbesAnswered >= 2);
  assert.ok(b.ep.counters.datagramsIn > 0 && b.ep.counters.dropMalformed === 0, 'the padded probes are taken, not dropped');
  const lostBefore = hub.stats.blackHoled;
  for (let i = 0; i < 20; i++) a.ep.send(ca.connId, packet, 0, packet.length);
  run(hub, clock, [a, b], () => b.rec.data.length === 20, 1000);
  assert.equal(b.rec.data.length, 20);
  assert.equal(hub.stats.blackHoled, lostBefore, 'nothing more fell into the hole');
  assert.ok(b.rec.data[0]!.bytes.length === 1500 && DATA_HEADER_SIZE === 16);
});

test('seqFrom numbers a search\'s probes from a base (an exit\'s own range), only before its first probe', () => {
  const path = new PathMtu(1472, 0);
  path.seqFrom(2 ** 29);
  assert.equal(path.probe(0), BASE_DATAGRAM);
  assert.equal(path.seq, 2 ** 29 + 1);
  assert.equal(path.answered(1, 5), false, 'a reply in another range answers nothing');
  assert.equal(path.answered(2 ** 29 + 1, 5), true);
  path.seqFrom(0);
  path.probe(5);
  assert.equal(path.seq, 2 ** 29 + 2, 'a running search keeps its numbering');
});
