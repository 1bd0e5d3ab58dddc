// The connections of one underlay path share one path MTU search (path-cache.ts, msnl(7) Path MTU).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { MemoryHub } from '../../src/msdl/memory.js';
import { generateKeyPair } from '../../src/crypto/primitives.js';
import { udpPathKey } from '../../src/msdl/udp-endpoint.js';
import { PathCache } from '../../src/msnl/path-cache.js';
import { CONFIRM_INTERVAL_MS, PathMtu, SEARCH_GRANULARITY } from '../../src/msnl/pmtu.js';
import { FakeClock, makeNode, run, type Node, type NodeExtras } from './harness.js';

const A = 0x0a000001;
const B = 0x0a000002;
const C = 0x0a000003;

function hosts(keyed: boolean, pathKeyOf?: NodeExtras['pathKeyOf']) {
  const clock = new FakeClock();
  const hub = new MemoryHub({ clock, seed: 5, delayMs: 5, maxDatagram: 65507 });
  const keys = { a: generateKeyPair(), b: generateKeyPair(), c: generateKeyPair() };
  const extras = (own: keyof typeof keys): NodeExtras => keyed ? { identity: keys[own], peerKeyOf: (address) => (address === A ? keys.a : address === B ? keys.b : keys.c).publicKey, wallClock: () => clock.t } : {};
  const a = makeNode(hub, clock, 'a', A, 21, {}, { ...extras('a'), ...(pathKeyOf === undefined ? {} : { pathKeyOf }) });
  const b = makeNode(hub, clock, 'b', B, 22, {}, extras('b'));
  const c = makeNode(hub, clock, 'c', C, 23, {}, extras('c'));
  b.ep.listen(0x800);
  c.ep.listen(0x800);
  hub.limitPath('b', 1300, true);
  hub.limitPath('c', 1300, true);
  return { clock, hub, a, b, c, nodes: [a, b, c] };
}

let port = 0x1000;
function call(h: ReturnType<typeof hosts>, to: Node, address: number): number {
  const before = h.a.rec.connected.length;
  h.a.ep.connect({ remoteAddress: address, remotePort: 0x800, localPort: port++, ipa: 1, link: h.hub.peer(to.name) });
  assert.ok(run(h.hub, h.clock, h.nodes, () => h.a.rec.connected.length === before + 1, 5000), 'call up');
  return h.a.rec.connected[before]!.conn.connId;
}

function searched(h: ReturnType<typeof hosts>, connId: number): void {
  assert.ok(run(h.hub, h.clock, h.nodes, () => h.a.ep.health(connId)!.pathPhase === 'done', 30_000), 'search done');
  const size = h.a.ep.health(connId)!.maxDatagram;
  assert.ok(size <= 1300 && size > 1300 - SEARCH_GRANULARITY, `found ${size}`);
}

for (const keyed of [false, true]) {
  const kind = keyed ? 'keyed' : 'plain';

  test(`${kind}: a second connection on a searched path adopts the result without one size probe`, () => {
    const h = hosts(keyed);
    const first = call(h, h.b, B);
    searched(h, first);
    const sent = h.a.ep.counters.sizeProbesSent;
    const second = call(h, h.b, B);
    run(h.hub, h.clock, h.nodes, () => false, 10_000);
    assert.equal(h.a.ep.health(second)!.pathPhase, 'done');
    assert.equal(h.a.ep.health(second)!.maxDatagram, h.a.ep.health(first)!.maxDatagram);
    // Over 10 s only the first connection confirms (one probe per CONFIRM_INTERVAL_MS at most).
    assert.ok(h.a.ep.counters.sizeProbesSent - sent <= 1, `sent ${h.a.ep.counters.sizeProbesSent - sent}`);
  });

  test(`${kind}: connections that come at once run one search; the others wait for it and take its result`, () => {
    const single = hosts(keyed);
    searched(single, call(single, single.b, B));
    const once = single.a.ep.counters.sizeProbesSent;
    const h = hosts(keyed);
    const ids = [0, 1, 2, 3, 4, 5].map(() => call(h, h.b, B));
    for (const id of ids) searched(h, id);
    assert.ok(h.a.ep.counters.sizeProbesSent <= once + 2, `6 connections sent ${h.a.ep.counters.sizeProbesSent}, one alone ${once}`);
    assert.equal(new Set(ids.map((id) => h.a.ep.health(id)!.maxDatagram)).size, 1);
  });
}

test('a too-big report lowers every connection of the path, and the next search is one search', () => {
  const h = hosts(false);
  const ids = [call(h, h.b, B), call(h, h.b, B), call(h, h.b, B)];
  for (const id of ids) searched(h, id);
  h.hub.limitPath('b', 1100, false);
  h.a.ep.pathTooBig(h.hub.peer('b'), 1100);
  for (const id of ids) assert.equal(h.a.ep.health(id)!.maxDatagram, 1100);
  const sent = h.a.ep.counters.sizeProbesSent;
  run(h.hub, h.clock, h.nodes, () => false, 10_000);
  for (const id of ids) assert.equal(h.a.ep.health(id)!.maxDatagram, 1100, 'a report is never raised but by a search');
  assert.ok(h.a.ep.counters.sizeProbesSent - sent <= 8, `one search after the report (${h.a.ep.counters.sizeProbesSent - sent} probes)`);
});

test('a result outlives its searcher until its confirmation is due; after that a new connection searches', () => {
  const h = hosts(false);
  const first = call(h, h.b, B);
  searched(h, first);
  h.a.ep.disconnect(first);
  run(h.hub, h.clock, h.nodes, () => false, 100);
  let sent = h.a.ep.counters.sizeProbesSent;
  const second = call(h, h.b, B);
  run(h.hub, h.clock, h.nodes, () => false, 2000);
  assert.equal(h.a.ep.health(second)!.pathPhase, 'done');
  assert.equal(h.a.ep.counters.sizeProbesSent, sent, 'adopted while fresh');
  h.a.ep.disconnect(second);
  run(h.hub, h.clock, h.nodes, () => false, CONFIRM_INTERVAL_MS + 1000);
  sent = h.a.ep.counters.sizeProbesSent;
  const third = call(h, h.b, B);
  searched(h, third);
  assert.ok(h.a.ep.counters.sizeProbesSent - sent >= 2, 'expired: the third connection searches');
});

test('different paths search on their own', () => {
  const h = hosts(false);
  searched(h, call(h, h.b, B));
  const sent = h.a.ep.counters.sizeProbesSent;
  const other = call(h, h.c, C);
  searched(h, other);
  assert.ok(h.a.ep.counters.sizeProbesSent - sent >= 2, 'the path to c has its own search');
});

test('PathCache: bounded, by the underlay\'s sameness of links; a report lowers a left result, never raises it', () => {
  const open = new Set<{ path: PathMtu }>();
  const cache = new PathCache<string, { path: PathMtu }>((x, y) => x.toLowerCase() === y.toLowerCase(), (c) => open.has(c), null, 3);
  const e = cache.entry('P');
  assert.equal(cache.entry('p'), e, 'the same link by sameLink');
  for (const l of ['q', 'r', 's']) cache.entry(l);
  assert.equal(cache.size, 3);
  assert.equal(cache.find('p'), undefined, 'the oldest went first');
  const owner = { path: new PathMtu(1472, 0) };
  open.add(owner);
  const q = cache.entry('q');
  q.owner = owner;
  q.ownerPath = owner.path;
  assert.equal(cache.result(q, 0), 0, 'nothing before the owner is done');
  owner.path.adopt(1400, 0);
  assert.equal(cache.result(q, 0), 1400);
  cache.leave(owner, 'q', 10, CONFIRM_INTERVAL_MS);
  assert.equal(cache.result(q, 11), 1400);
  cache.tooBig('Q', 1200);
  cache.tooBig('q', 1300);
  assert.equal(cache.result(q, 11), 1200);
  assert.equal(cache.result(q, CONFIRM_INTERVAL_MS + 1), 0, 'expired');
});

test('links with one path key share a search (UDP: the peer\'s address, not its port)', () => {
  const h = hosts(false, () => 'one host');
  searched(h, call(h, h.b, B));
  const sent = h.a.ep.counters.sizeProbesSent;
  const other = call(h, h.c, C);
  run(h.hub, h.clock, h.nodes, () => false, 5000);
  assert.equal(h.a.ep.health(other)!.pathPhase, 'done');
  assert.ok(h.a.ep.counters.sizeProbesSent - sent <= 1, 'adopted');
  const v4 = (port: number) => ({ address: '192.0.2.7', port, ipv4: 0xc0000207, ipv6: null });
  const v6 = (port: number, last: number) => ({ address: '2001:db8::1', port, ipv4: -1, ipv6: Uint8Array.from({ length: 16 }, (_, i) => (i === 15 ? last : 0)) });
  assert.equal(udpPathKey(v4(10_001)), udpPathKey(v4(7010)));
  assert.notEqual(udpPathKey(v4(1)), udpPathKey({ ...v4(1), ipv4: 0xc0000208 }));
  assert.equal(udpPathKey(v6(1, 1)), udpPathKey(v6(2, 1)));
  assert.notEqual(udpPathKey(v6(1, 1)), udpPathKey(v6(1, 2)));
  assert.notEqual(udpPathKey({ address: 'peer.example', port: 1, ipv4: -1, ipv6: null }), udpPathKey({ address: 'other.example', port: 1, ipv4: -1, ipv6: null }));
});
