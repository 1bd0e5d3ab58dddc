// Secure MSNL between endpoints over the in-memory hub: keyed calls, sealed data, replays and
// forgeries dropped and never answered, wrong keys refused, no fallback to the plain framing,
// rekeying without loss, roaming, cookies under load.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { MemoryHub } from '../../src/msdl/memory.js';
import { generateKeyPair, type KeyPair } from '../../src/crypto/primitives.js';
import { DATA_HEADER_SIZE, MsgType } from '../../src/msnl/constants.js';
import { COOKIE_REPLY_SIZE, decodeInit, decodeResponse, INIT_SIZE, RESPONSE_SIZE, SecureType } from '../../src/msnl/secure-wire.js';
import type { EndpointConfig } from '../../src/msnl/types.js';
import { FakeClock, makeNode, run, type Node } from './harness.js';
import { nodeCryptoAead, type AeadBatch } from '../../src/crypto/aead.js';
import { defaultAead } from '../../src/daemon/aead.js';

const A = 0x80e80001;
const B = 0x80e80002;
const PORT = 0x0800;

interface Setup {
  readonly clock: FakeClock;
  readonly hub: MemoryHub;
  readonly a: Node;
  readonly b: Node;
  readonly keys: { a: KeyPair; b: KeyPair };
  readonly failures: { node: string; address: number; reason: string }[];
}

function keyedPair(options: { config?: Partial<EndpointConfig>; aSeesB?: 'right' | 'wrong' | 'none'; bSeesA?: 'right' | 'wrong' | 'none'; bIdentity?: boolean; aAead?: AeadBatch; bAead?: AeadBatch; aSchedule?: (flush: () => void) => void; wallClock?: () => number; idle?: (work: () => void) => void; aRuns?: boolean } = {}): Setup {
  const clock = new FakeClock();
  const hub = new MemoryHub({ clock, seed: 3, delayMs: 5 });
  const keys = { a: generateKeyPair(), b: generateKeyPair() };
  const failures: Setup['failures'] = [];
  const view = (mode: 'right' | 'wrong' | 'none' | undefined, key: KeyPair): Uint8Array | 'none' => (mode === 'none' ? 'none' : mode === 'wrong' ? generateKeyPair().publicKey : key.publicKey);
  const aView = view(options.aSeesB, keys.b);
  const bView = view(options.bSeesA, keys.a);
  const a = makeNode(hub, clock, 'a', A, 11, options.config, {
    identity: keys.a, capture: true, wallClock: options.wallClock ?? ((): number => clock.t), ...(options.idle === undefined ? {} : { scheduleIdle: options.idle }), ...(options.aAead === undefined ? {} : { aead: options.aAead }), ...(options.aSchedule === undefined ? {} : { scheduleSeals: options.aSchedule }),
    ...(options.aRuns === true ? { runs: true } : {}),
    peerKeyOf: (addr) => (addr === B ? aView : undefined),
    authFailed: (address, reason) => failures.push({ node: 'a', address, reason }),
  });
  const b = makeNode(hub, clock, 'b', B, 12, options.config, {
    identity: options.bIdentity === false ? null : keys.b, capture: true, wallClock: () => clock.t, ...(options.idle === undefined ? {} : { scheduleIdle: options.idle }), ...(options.bAead === undefined ? {} : { aead: options.bAead }),
    peerKeyOf: (addr) => (addr === A ? bView : undefined),
    authFailed: (address, reason) => failures.push({ node: 'b', address, reason }),
  });
  b.ep.listen(PORT);
  return { clock, hub, a, b, keys, failures };
}

function call(s: Setup): { aConn: number; bConn: number } {
  s.a.ep.connect({ remoteAddress: B, remotePort: PORT, localPort: PORT, ipa: 0x0a000001, link: s.hub.peer('b') });
  assert.ok(run(s.hub, s.clock, [s.a, s.b], () => s.a.rec.connected.length === 1, 2000), 'the keyed call completes');
  return { aConn: s.a.rec.connected[0]!.conn.connId, bConn: s.b.rec.connected[0]!.conn.connId };
}

function packet(length: number, fill: number): Uint8Array {
  const buf = new Uint8Array(DATA_HEADER_SIZE + length);
  buf.fill(fill, DATA_HEADER_SIZE);
  return buf;
}

const typesSent = (n: Node): Set<number> => new Set(n.sent.map((d) => d.bytes[1]!));

test('a keyed call: one round trip, authenticated both ends, data sealed both ways, nothing plain on the wire', () => {
  const s = keyedPair();
  const { aConn, bConn } = call(s);
  assert.equal(s.a.rec.connected[0]!.conn.authenticated, true);
  assert.equal(s.b.rec.connected[0]!.conn.authenticated, true);
  assert.equal(s.a.ep.counters.handshakesSent, 1, 'one initiation, no retransmission');
  assert.equal(s.b.rec.incoming.length, 1);
  assert.ok(s.a.ep.send(aConn, packet(100, 0xab), DATA_HEADER_SIZE, 100));
  assert.ok(s.b.ep.send(bConn, packet(65535, 0xcd), DATA_HEADER_SIZE, 65535));
  assert.ok(run(s.hub, s.clock, [s.a, s.b], () => s.a.rec.data.length === 1 && s.b.rec.data.length === 1, 1000));
  assert.deepEqual(s.b.rec.data[0]!.bytes, new Uint8Array(100).fill(0xab));
  assert.deepEqual(s.a.rec.data[0]!.bytes, new Uint8Array(65535).fill(0xcd));
  for (const node of [s.a, s.b]) {
    for (const type of typesSent(node)) assert.ok(type >= SecureType.HANDSHAKE_INIT, `${node.name} sent type ${type} in the clear`);
    for (const d of node.sent) assert.ok(!Buffer.from(d.bytes).includes(Buffer.alloc(16, node === s.a ? 0xab : 0xcd)), 'payload visible on the wire');
    assert.ok(node.sent.every((d) => d.bytes.length <= 1472), 'sealed datagrams fit the underlay');
  }
  assert.equal(s.a.sent.find((d) => d.bytes[1] === SecureType.HANDSHAKE_INIT)!.bytes.length, INIT_SIZE);
  assert.equal(s.b.sent.find((d) => d.bytes[1] === SecureType.HANDSHAKE_RESPONSE)!.bytes.length, RESPONSE_SIZE);
  assert.ok(RESPONSE_SIZE < INIT_SIZE && COOKIE_REPLY_SIZE < INIT_SIZE, 'no answer larger than its request');
  // Health probes run sealed, and both directions are proven.
  run(s.hub, s.clock, [s.a, s.b], () => false, 3000);
  assert.equal(s.a.ep.health(aConn)!.up, true);
  assert.equal(s.b.ep.health(bConn)!.up, true);
});

test('the addon AEAD on one end and node:crypto on the other carry data both ways, a forged frame is dropped', () => {
  const native = defaultAead();
  assert.equal(native.name, 'native');
  const s = keyedPair({ aAead: native, bAead: nodeCryptoAead });
  const { aConn, bConn } = call(s);
  for (let i = 0; i < 20; i++) {
    assert.ok(s.a.ep.send(aConn, packet(1 + i * 97, i), DATA_HEADER_SIZE, 1 + i * 97));
    assert.ok(s.b.ep.send(bConn, packet(2000 + i * 3000, i), DATA_HEADER_SIZE, 2000 + i * 3000)); // segmented
  }
  assert.ok(run(s.hub, s.clock, [s.a, s.b], () => s.a.rec.data.length === 20 && s.b.rec.data.length === 20, 2000));
  for (let i = 0; i < 20; i++) {
    assert.deepEqual(s.b.rec.data[i]!.bytes, new Uint8Array(1 + i * 97).fill(i));
    assert.deepEqual(s.a.rec.data[i]!.bytes, new Uint8Array(2000 + i * 3000).fill(i));
  }
  const sealed = s.b.sent.filter((d) => d.bytes[1] === SecureType.SEALED).at(-1)!.bytes;
  const forged = new Uint8Array(sealed);
  new DataView(forged.buffer).setUint32(12, 1_000_000); // a counter never used: only authentication can stop it
  forged[forged.length - 1]! ^= 1;
  const authBefore = s.a.ep.counters.dropAuth;
  s.a.ep.receive(forged, s.hub.peer('b'));
  assert.equal(s.a.ep.counters.dropAuth, authBefore + 1);
  assert.equal(s.a.rec.data.length, 20);
});

test('sealed in batches (as msnld does): a burst leaves in one AEAD call after the callback, in order, and opens on the other end', () => {
  const flushes: (() => void)[] = [];
  let calls = 0;
  const native = defaultAead();
  const counting: AeadBatch = { name: 'counting', seal: (k, b, d, n) => (calls++, native.seal(k, b, d, n)), open: native.open };
  const s = keyedPair({ aAead: counting, aSchedule: (flush) => flushes.push(flush) });
  const { aConn } = call(s);
  while (flushes.length > 0) flushes.shift()!(); // a flush may queue another (a probe opened, its reply sealed)
  const sealedBefore = s.a.ep.counters.datagramsOut;
  calls = 0;
  for (let i = 0; i < 30; i++) assert.ok(s.a.ep.send(aConn, packet(100 + i * 40, i), DATA_HEADER_SIZE, 100 + i * 40));
  assert.equal(s.a.ep.counters.datagramsOut, sealedBefore, 'nothing sent before the flush');
  assert.equal(flushes.length, 1);
  flushes.pop()!();
  assert.equal(calls, 1, 'one AEAD call for the burst');
  assert.equal(s.a.ep.counters.datagramsOut, sealedBefore + 30);
  assert.ok(run(s.hub, s.clock, [s.a, s.b], () => s.b.rec.data.length === 30, 1000));
  for (let i = 0; i < 30; i++) assert.deepEqual(s.b.rec.data[i]!.bytes, new Uint8Array(100 + i * 40).fill(i), `packet ${i}`);
});

for (const runs of [false, true]) {
test(`a segmented packet is sealed by one addon call after the frames queued before it, in counter order, and opens on a node:crypto end${runs ? ' (sealed in place into a lent send slab)' : ''}`, () => {
  const flushes: (() => void)[] = [];
  let segmentCalls = 0;
  const native = defaultAead();
  const counting: AeadBatch = { ...native, sealSegments: (...a) => (segmentCalls++, native.sealSegments!(...a)) };
  const s = keyedPair({ aAead: counting, bAead: nodeCryptoAead, aSchedule: (flush) => flushes.push(flush), aRuns: runs });
  const { aConn } = call(s);
  while (flushes.length > 0) flushes.shift()!();
  s.a.sent.length = 0;
  const outBefore = s.a.ep.counters.datagramsOut;
  const sizes = [100, 200, 60_000, 300, 65_535, 1_500, 40];
  for (let i = 0; i < sizes.length; i++) assert.ok(s.a.ep.send(aConn, packet(sizes[i]!, i), DATA_HEADER_SIZE, sizes[i]!));
  while (flushes.length > 0) flushes.shift()!();
  assert.equal(segmentCalls, 3, 'one call for each packet of several segments');
  assert.equal(s.a.runs ?? 0, runs ? 3 : 0);
  assert.equal(s.a.ep.counters.datagramsOut - outBefore, s.a.sent.length, 'every datagram counted once');
  const counters = s.a.sent.filter((d) => d.bytes[1] === SecureType.SEALED).map((d) => new DataView(d.bytes.buffer, d.bytes.byteOffset).getUint32(12));
  assert.ok(counters.length > 90);
  for (let i = 1; i < counters.length; i++) assert.equal(counters[i], counters[i - 1]! + 1, 'sent in counter order');
  const before = s.b.rec.data.length;
  assert.ok(run(s.hub, s.clock, [s.a, s.b], () => s.b.rec.data.length === before + sizes.length, 2000));
  for (let i = 0; i < sizes.length; i++) assert.deepEqual(s.b.rec.data[before + i]!.bytes, new Uint8Array(sizes[i]!).fill(i), `packet ${i}`);
});
}

test('opened in batches (as msnld does): a burst opens in one AEAD call after the callback; a replay and a forgery inside it are dropped', () => {
  const flushes: (() => void)[] = [];
  let opens = 0;
  const native = defaultAead();
  const counting: AeadBatch = { name: 'counting', seal: native.seal, open: (k, b, d, n) => (opens++, native.open(k, b, d, n)) };
  const s = keyedPair({ aAead: counting, aSchedule: (flush) => flushes.push(flush) });
  call(s);
  while (flushes.length > 0) flushes.shift()!(); // a flush may queue another (a probe opened, its reply sealed)
  const bConn = s.b.rec.connected[0]!.conn.connId;
  s.b.sent.length = 0;
  for (let i = 0; i < 30; i++) assert.ok(s.b.ep.send(bConn, packet(100 + i * 40, i), DATA_HEADER_SIZE, 100 + i * 40));
  const frames = s.b.sent.filter((d) => d.bytes[1] === SecureType.SEALED).map((d) => d.bytes);
  assert.equal(frames.length, 30);
  const forged = new Uint8Array(frames[5]!);
  forged[40]! ^= 0x80;
  const burst = [...frames.slice(0, 5), forged, ...frames.slice(5, 10), frames[3]!, ...frames.slice(10)];
  const dataBefore = s.a.rec.data.length;
  const dropsBefore = s.a.ep.counters.dropAuth;
  opens = 0;
  for (const bytes of burst) s.a.ep.receive(bytes, s.hub.peer('b'));
  assert.equal(s.a.rec.data.length, dataBefore, 'nothing handled before the flush');
  assert.equal(flushes.length, 1);
  flushes.pop()!();
  assert.equal(opens, 1, 'one AEAD call for the burst');
  assert.equal(s.a.rec.data.length, dataBefore + 30);
  for (let i = 0; i < 30; i++) assert.deepEqual(s.a.rec.data[dataBefore + i]!.bytes, new Uint8Array(100 + i * 40).fill(i), `packet ${i}`);
  assert.equal(s.a.ep.counters.dropAuth, dropsBefore + 2, 'the forgery and the replay');
});

test('the next ephemeral key pair is made after the turn (scheduleIdle), once per handshake message, and each message has a fresh one', () => {
  const idle: (() => void)[] = [];
  const s = keyedPair({ idle: (work) => idle.push(work) });
  call(s);
  assert.equal(idle.length, 2, 'each side took its spare and asked for the next one');
  s.a.ep.connect({ remoteAddress: B, remotePort: PORT, localPort: PORT + 1, ipa: 0x0a000001, link: s.hub.peer('b') });
  assert.ok(run(s.hub, s.clock, [s.a, s.b], () => s.a.rec.connected.length === 2, 150), 'a call without a spare makes its key pair on the spot');
  assert.equal(idle.length, 2, 'one refill asked for at a time');
  for (const work of idle.splice(0)) work();
  s.a.ep.connect({ remoteAddress: B, remotePort: PORT, localPort: PORT + 2, ipa: 0x0a000001, link: s.hub.peer('b') });
  assert.ok(run(s.hub, s.clock, [s.a, s.b], () => s.a.rec.connected.length === 3, 150));
  assert.equal(idle.length, 2);
  const ephemerals = (n: typeof s.a, type: number): string[] => n.sent.filter((d) => d.bytes[1] === type).map((d) => {
    const view = type === SecureType.HANDSHAKE_INIT ? decodeInit(d.bytes) : decodeResponse(d.bytes);
    return Buffer.from(view!.noise.subarray(0, 32)).toString('hex');
  });
  for (const list of [ephemerals(s.a, SecureType.HANDSHAKE_INIT), ephemerals(s.b, SecureType.HANDSHAKE_RESPONSE)]) {
    assert.equal(list.length, 3);
    assert.equal(new Set(list).size, 3, 'no ephemeral key used twice');
  }
});

test('configured peers are made ready after the turn, a few at a time: state, the static DH, an initiation\'s start and a response\'s ephemeral, before any call', () => {
  const idle: (() => void)[] = [];
  const s = keyedPair({ idle: (work) => idle.push(work) });
  const others = Array.from({ length: 19 }, () => generateKeyPair().publicKey);
  const before = s.a.ep.secureStateSize();
  s.a.ep.preparePeers([s.keys.b.publicKey, ...others]);
  assert.equal(s.a.ep.secureStateSize(), before, 'nothing made on the caller\'s turn');
  let turns = 0;
  while (idle.length > 0 && turns < 10) {
    turns++;
    idle.shift()!();
  }
  assert.equal(turns, 3, '20 peers in slices of 8');
  assert.equal(s.a.ep.secureStateSize(), before + 4 * 20, 'each peer: its handshake state, DH(host key, its key), the start of an initiation to it and the ephemeral of a response to it');
  call(s);
  assert.equal(s.a.rec.connected[0]!.conn.authenticated, true);
});

test('two keyed calls to one peer in the same millisecond of a real wall clock: both initiations are taken, none is a replay', () => {
  // Nanoseconds since 1970 are past 2^53: stamps counted in a double repeated within a millisecond.
  const s = keyedPair({ wallClock: () => 1_796_000_000_000.25 });
  s.a.ep.connect({ remoteAddress: B, remotePort: PORT, localPort: PORT, ipa: 0x0a000001, link: s.hub.peer('b') });
  s.a.ep.connect({ remoteAddress: B, remotePort: PORT, localPort: PORT + 1, ipa: 0x0a000001, link: s.hub.peer('b') });
  assert.ok(run(s.hub, s.clock, [s.a, s.b], () => s.a.rec.connected.length === 2, 150), 'both up before any retransmission');
  assert.equal(s.b.ep.counters.dropReplay, 0);
  assert.equal(s.a.ep.counters.retransmits, 0);
});

test('replayed and forged frames reach nothing and are never answered, from the peer or a third host', () => {
  const s = keyedPair();
  const { aConn } = call(s);
  s.b.sent.length = 0;
  const { bConn } = { bConn: s.b.rec.connected[0]!.conn.connId };
  for (let i = 0; i < 25; i++) assert.ok(s.b.ep.send(bConn, packet(64, i), DATA_HEADER_SIZE, 64));
  assert.ok(run(s.hub, s.clock, [s.a, s.b], () => s.a.rec.data.length === 25, 1000));
  const captured = s.b.sent.filter((d) => d.bytes[1] === SecureType.SEALED).map((d) => d.bytes);
  const third = s.hub.attach('c');
  const sentBefore = s.a.ep.counters.datagramsOut;
  const dataBefore = s.a.rec.data.length;
  for (const bytes of captured) s.a.ep.receive(bytes, s.hub.peer('b')); // replay as if from b
  for (const bytes of captured) s.a.ep.receive(bytes, s.hub.peer('c')); // and from a third host
  for (const bytes of captured) {
    const flipped = new Uint8Array(bytes);
    flipped[40]! ^= 0x01;
    flipped[9]! ^= 0; // same counter
    s.a.ep.receive(flipped, s.hub.peer('c'));
  }
  assert.equal(s.a.rec.data.length, dataBefore, 'no replayed or forged packet delivered');
  assert.ok(s.a.ep.counters.dropReplay >= captured.length * 2);
  assert.equal(s.a.ep.counters.datagramsOut, sentBefore, 'nothing answered');
  assert.equal(s.a.ep.connection(aConn)!.link, s.hub.peer('b'), 'the peer address did not move');
  third.close();
  // A plain data frame naming the keyed connection is refused too.
  const plain = packet(64, 1);
  plain[0] = 1;
  plain[1] = MsgType.DATA;
  new DataView(plain.buffer).setUint32(4, aConn);
  new DataView(plain.buffer).setUint16(12, 64);
  s.a.ep.receive(plain, s.hub.peer('b'));
  assert.equal(s.a.rec.data.length, dataBefore);
  assert.ok(s.a.ep.counters.dropPlainRefused >= 1);
  // The tunnel still works.
  assert.ok(s.b.ep.send(bConn, packet(64, 9), DATA_HEADER_SIZE, 64));
  assert.ok(run(s.hub, s.clock, [s.a, s.b], () => s.a.rec.data.length === dataBefore + 1, 1000));
});

test('a caller proving another key than its route names is refused, with one reason, and cannot call', () => {
  const s = keyedPair({ bSeesA: 'wrong' });
  s.a.ep.connect({ remoteAddress: B, remotePort: PORT, localPort: PORT, ipa: 0x0a000001, link: s.hub.peer('b') });
  run(s.hub, s.clock, [s.a, s.b], () => s.a.rec.failed.length === 1, 10000);
  // The caller heard nothing authenticated: it says so, not just "timeout".
  assert.equal(s.a.rec.failed[0]?.reason, 'no-handshake');
  assert.ok(s.failures.some((f) => f.node === 'a' && f.address === B && f.reason === 'no-answer'));
  assert.equal(s.b.rec.incoming.length, 0);
  assert.ok(s.b.ep.counters.dropWrongKey >= 1);
  assert.ok(s.failures.some((f) => f.node === 'b' && f.address === A && f.reason === 'wrong-key'));
  assert.equal(s.b.sent.length, 0, 'never answered');
});

test('a caller whose route names another key than the callee holds: mac1 fails there, no-handshake here', () => {
  const s = keyedPair({ aSeesB: 'wrong' });
  s.a.ep.connect({ remoteAddress: B, remotePort: PORT, localPort: PORT, ipa: 0x0a000001, link: s.hub.peer('b') });
  run(s.hub, s.clock, [s.a, s.b], () => s.a.rec.failed.length === 1, 10000);
  assert.equal(s.a.rec.failed[0]?.reason, 'no-handshake');
  assert.deepEqual(s.failures.filter((f) => f.node === 'a').map((f) => f.reason), ['no-answer']);
  assert.ok(s.b.ep.counters.dropAuth >= 1);
  assert.equal(s.b.sent.length, 0, 'never answered');
});

test('a keyed route never falls back: a plain request from a keyed address is refused; no host key means no call', () => {
  const plainCaller = keyedPair({ aSeesB: 'none' });
  plainCaller.a.ep.connect({ remoteAddress: B, remotePort: PORT, localPort: PORT, ipa: 0x0a000001, link: plainCaller.hub.peer('b') });
  run(plainCaller.hub, plainCaller.clock, [plainCaller.a, plainCaller.b], () => plainCaller.a.rec.failed.length === 1, 10000);
  assert.ok(typesSent(plainCaller.a).has(MsgType.CONNECT_REQUEST));
  assert.equal(plainCaller.b.rec.incoming.length, 0);
  assert.ok(plainCaller.b.ep.counters.dropPlainRefused >= 1);
  assert.equal(plainCaller.b.sent.length, 0);

  const noKey = keyedPair({ bIdentity: false });
  noKey.a.ep.connect({ remoteAddress: B, remotePort: PORT, localPort: PORT, ipa: 0x0a000001, link: noKey.hub.peer('b') });
  run(noKey.hub, noKey.clock, [noKey.a, noKey.b], () => noKey.a.rec.failed.length === 1, 10000);
  assert.ok(!typesSent(noKey.a).has(MsgType.CONNECT_REQUEST), 'the keyed caller never sent a plain request');
  assert.ok(noKey.b.ep.counters.dropNoHostKey >= 1);
  assert.equal(noKey.b.rec.incoming.length, 0);
});

test('a refusal of a keyed call comes back authenticated', () => {
  const s = keyedPair();
  s.b.policy = 'refuse';
  s.a.ep.connect({ remoteAddress: B, remotePort: PORT, localPort: PORT, ipa: 0x0a000001, link: s.hub.peer('b') });
  assert.ok(run(s.hub, s.clock, [s.a, s.b], () => s.a.rec.failed.length === 1, 2000));
  assert.equal(s.a.rec.failed[0]!.reason, 'refused');
});

test('rekey by time: new keys every rekeyAfterMs, no packet lost across the switch, the old keys still open late frames', () => {
  const s = keyedPair({ config: { rekeyAfterMs: 10_000, rejectAfterMs: 25_000, deadMs: 0 } });
  const { aConn, bConn } = call(s);
  let sent = 0;
  for (let round = 0; round < 40; round++) {
    assert.ok(s.a.ep.send(aConn, packet(200, round), DATA_HEADER_SIZE, 200));
    assert.ok(s.b.ep.send(bConn, packet(200, round), DATA_HEADER_SIZE, 200));
    sent++;
    run(s.hub, s.clock, [s.a, s.b], () => false, 1000);
  }
  assert.ok(s.a.ep.counters.rekeys >= 3, `rekeys ${s.a.ep.counters.rekeys}`);
  assert.equal(s.b.rec.data.length, sent, 'a -> b lost nothing');
  assert.equal(s.a.rec.data.length, sent, 'b -> a lost nothing');
  assert.equal(s.a.ep.counters.dropSendNoSession + s.b.ep.counters.dropSendNoSession, 0);
  // A frame sealed just before a switch and delivered after it still opens (previous keys kept).
  const late = s.b.sent.filter((d) => d.bytes[1] === SecureType.SEALED).at(-1)!.bytes;
  s.hub.loss = 1; // held back on the way: delivered by hand after the switch
  s.b.ep.send(bConn, packet(10, 1), DATA_HEADER_SIZE, 10);
  s.hub.loss = 0;
  const held = s.b.sent.at(-1)!.bytes;
  const rekeys = s.a.ep.counters.rekeys;
  s.clock.t += 10_000; // a rekeys now
  run(s.hub, s.clock, [s.a, s.b], () => false, 200);
  assert.equal(s.a.ep.counters.rekeys, rekeys + 1);
  const before = s.a.rec.data.length;
  s.a.ep.receive(held, s.hub.peer('b'));
  s.a.ep.receive(late, s.hub.peer('b')); // a replay, refused
  assert.equal(s.a.rec.data.length, before + 1);
});

test('roaming: the peer address follows the last authenticated frame, never an unauthenticated one', () => {
  const s = keyedPair();
  const { aConn, bConn } = call(s);
  s.b.ep.send(bConn, packet(32, 1), DATA_HEADER_SIZE, 32);
  const sealed = s.b.sent.at(-1)!.bytes;
  s.hub.attach('b2');
  s.a.ep.receive(sealed, s.hub.peer('b2')); // b's frame, now arriving from b's new address
  assert.equal(s.a.ep.connection(aConn)!.link, s.hub.peer('b2'));
  assert.equal(s.a.ep.counters.roams, 1);
  const forged = new Uint8Array(sealed);
  forged[20]! ^= 4;
  s.a.ep.receive(forged, s.hub.peer('b'));
  assert.equal(s.a.ep.connection(aConn)!.link, s.hub.peer('b2'), 'a forged frame does not move it');
});

test('under load an initiation without a cookie gets a small cookie reply; the retry with mac2 connects', () => {
  const s = keyedPair({ config: { handshakeLoadPerSecond: 0 } });
  const { aConn } = call(s);
  assert.ok(aConn > 0);
  assert.ok(s.b.ep.counters.cookieRepliesSent >= 1);
  assert.ok(s.a.ep.counters.cookiesReceived >= 1);
  const reply = s.b.sent.find((d) => d.bytes[1] === SecureType.COOKIE_REPLY)!;
  assert.equal(reply.bytes.length, COOKIE_REPLY_SIZE);
});

test('simultaneous keyed calls from both ends settle on one authenticated connection', () => {
  const s = keyedPair({ aSeesB: 'right', bSeesA: 'right' });
  s.a.ep.listen(PORT);
  s.a.ep.connect({ remoteAddress: B, remotePort: PORT, localPort: PORT, ipa: 0x0a000001, link: s.hub.peer('b') });
  s.b.ep.connect({ remoteAddress: A, remotePort: PORT, localPort: PORT, ipa: 0x0a000002, link: s.hub.peer('a') });
  assert.ok(run(s.hub, s.clock, [s.a, s.b], () => s.a.ep.connections().length === 1 && s.b.ep.connections().length === 1 && s.a.rec.connected.length >= 1 && s.b.rec.connected.length >= 1, 3000));
  run(s.hub, s.clock, [s.a, s.b], () => false, 3000);
  const [ca] = s.a.ep.connections();
  const [cb] = s.b.ep.connections();
  assert.equal(ca!.remoteConnId, cb!.connId);
  assert.equal(ca!.authenticated && cb!.authenticated, true);
  assert.equal(s.a.ep.health(ca!.connId)!.up, true);
});

test('a keyed release closes the other end; a plain disconnect or reset for a keyed connection does nothing', () => {
  const s = keyedPair();
  const { aConn, bConn } = call(s);
  s.a.ep.receive(new Uint8Array([1, 5, 0, 0, (bConn >>> 24) & 255, (bConn >>> 16) & 255, (bConn >>> 8) & 255, bConn & 255]), s.hub.peer('b'));
  assert.ok(s.a.ep.connection(aConn), 'a plain reset is ignored');
  assert.ok(s.a.ep.disconnect(aConn));
  assert.ok(run(s.hub, s.clock, [s.a, s.b], () => s.b.rec.disconnected.length === 1, 1000));
  assert.equal(s.b.rec.disconnected[0]!.byPeer, true);
  assert.equal(s.b.ep.connection(bConn), undefined);
});

test('under a flood of initiations from forged sources a legitimate call still completes (cookie round trip)', async () => {
  const { mac, MAC_SIZE } = await import('../../src/crypto/primitives.js');
  const { mac1Key } = await import('../../src/crypto/cookie.js');
  const s = keyedPair({ config: { handshakeLoadPerSecond: 50 } });
  const key1 = mac1Key(s.keys.b.publicKey);
  const forged = (i: number): Uint8Array => {
    const m = new Uint8Array(INIT_SIZE);
    m[0] = 1;
    m[1] = SecureType.HANDSHAKE_INIT;
    for (let k = 4; k < INIT_SIZE - 2 * MAC_SIZE; k++) m[k] = (i * 31 + k * 7) & 0xff;
    m.set(mac(key1, m.subarray(0, INIT_SIZE - 2 * MAC_SIZE)), INIT_SIZE - 2 * MAC_SIZE); // a valid mac1
    return m;
  };
  s.a.ep.connect({ remoteAddress: B, remotePort: PORT, localPort: PORT, ipa: 0x0a000001, link: s.hub.peer('b') });
  let i = 0;
  const done = (): boolean => {
    for (let k = 0; k < 200; k++, i++) s.b.ep.receive(forged(i), s.hub.peer(`forged${i % 1000}`)); // ~thousands a second
    return s.a.rec.connected.length === 1;
  };
  assert.ok(run(s.hub, s.clock, [s.a, s.b], done, 3000), 'the legitimate call completed during the flood');
  assert.ok(i >= 1000, `${i} forged initiations`);
  assert.ok(s.b.ep.counters.cookieRepliesSent > 0 && s.a.ep.counters.cookiesReceived > 0);
  assert.ok(s.b.ep.counters.dropAuth + s.b.ep.counters.dropHandshakeRateLimited <= 50 * 4, 'forged initiations did not get to the DH work beyond the load limit');
  assert.equal(s.b.rec.incoming.length, 1);
});
