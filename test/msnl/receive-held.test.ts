// Datagrams received in held bursts (MsnlEndpoint.receiveHeld, then receivedBurst, as msnld's UDP
// socket hands its receive slab over): 64 KiB packets cut into segments, plain and keyed, arrive
// through one slab in bursts that split packets, the slab overwritten after every burst. Every
// packet is delivered whole and exact, with the addon's copyRuns joining segments (the
// reassembler's deferred copies) and without it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { generateKeyPair } from '../../src/crypto/primitives.js';
import { defaultAead } from '../../src/daemon/aead.js';
import { MsnlEndpoint } from '../../src/msnl/endpoint.js';
import type { EndpointEvents } from '../../src/msnl/types.js';

type Link = 'a' | 'b';
const A = 0x80e80001;
const B = 0x80e80002;
const PORT = 0x0800;

function packetOf(size: number, salt: number): Uint8Array {
  const p = new Uint8Array(size);
  for (let i = 0; i < size; i++) p[i] = (i * 131 + salt * 7 + (i >> 9)) & 0xff;
  return p;
}

async function run(keyed: boolean, join: boolean): Promise<void> {
  const { copyRuns, ...withoutJoin } = defaultAead();
  assert.equal(typeof copyRuns, 'function', 'the addon offers copyRuns');
  const aead = join ? { ...withoutJoin, copyRuns: copyRuns! } : withoutJoin;
  const keys = { a: generateKeyPair(), b: generateKeyPair() };
  const toA: Uint8Array[] = [];
  const toB: Uint8Array[] = [];
  const delivered: Uint8Array[] = [];
  const quiet = (): void => undefined;
  let connA = -1;
  let b: MsnlEndpoint<Link> | null = null;
  const events = (onConnected: (id: number) => void, onData: EndpointEvents<Link>['data'], accept: (callId: number) => void): EndpointEvents<Link> => ({
    incomingCall: (call) => accept(call.callId), connected: (_h, conn) => onConnected(conn.connId), callFailed: quiet,
    data: onData, disconnected: quiet, idle: quiet, echoReply: quiet,
  });
  const clock = { now: (): number => 1_000 };
  const key = (k: Uint8Array): Uint8Array | 'none' => (keyed ? k : 'none');
  const a = new MsnlEndpoint<Link>({
    localAddress: A, clock, identity: keys.a, aead, scheduleSeals: queueMicrotask,
    transmit: (_l, buf, offset, length) => void toB.push(buf.slice(offset, offset + length)),
    peerKeyOf: (x) => (x === B ? key(keys.b.publicKey) : undefined),
    events: events((id) => (connA = id), quiet, quiet),
  });
  b = new MsnlEndpoint<Link>({
    localAddress: B, clock, identity: keys.b, aead, scheduleSeals: queueMicrotask,
    transmit: (_l, buf, offset, length) => void toA.push(buf.slice(offset, offset + length)),
    peerKeyOf: (x) => (x === A ? key(keys.a.publicKey) : undefined),
    events: events(quiet, (_conn, buf, offset, length) => void delivered.push(buf.slice(offset, offset + length)), (callId) => b!.accept(callId, 0x0a000002)),
  });
  b.listen(PORT);
  a.connect({ remoteAddress: B, remotePort: PORT, localPort: PORT, ipa: 0x0a000001, link: 'b' });
  for (let i = 0; i < 50 && connA < 0; i++) {
    await Promise.resolve();
    for (const d of toB.splice(0)) b.receive(d, 'a');
    await Promise.resolve();
    for (const d of toA.splice(0)) a.receive(d, 'b');
  }
  assert.ok(connA >= 0, 'the call completed');
  toB.length = 0;
  const sent: Uint8Array[] = [];
  for (let i = 0; i < 12; i++) {
    const p = packetOf(i % 3 === 2 ? 3_000 + i * 977 : 65_535 - i * 13, i);
    sent.push(p);
    const framed = new Uint8Array(16 + p.length);
    framed.set(p, 16);
    assert.ok(a.send(connA, framed, 16, p.length));
  }
  await Promise.resolve();
  await Promise.resolve();
  const datagrams = toB.splice(0);
  assert.ok(datagrams.length > 12 * 20, `segmented: ${datagrams.length} datagrams`);
  // Bursts of 1..40 datagrams through one slab, each burst ended, then the slab overwritten.
  const slab = new Uint8Array(40 * 2048);
  let next = 0, burst = 0;
  while (next < datagrams.length) {
    const n = 1 + ((burst++ * 17) % 40);
    let at = 8;
    for (const d of datagrams.slice(next, next + n)) {
      slab.set(d, at);
      b.receiveHeld(slab, at, d.length, 'a');
      at += d.length + 24;
    }
    next += n;
    b.receivedBurst();
    slab.fill(0xc3);
  }
  await Promise.resolve();
  assert.equal(delivered.length, sent.length, `${keyed ? 'keyed' : 'plain'}${join ? '' : ' without copyRuns'}: every packet delivered`);
  for (let i = 0; i < sent.length; i++) assert.deepEqual(delivered[i], sent[i], `packet ${i}`);
}

test('segmented packets received in held bursts are delivered exact, plain and keyed, with and without copyRuns', async () => {
  for (const keyed of [false, true]) for (const join of [true, false]) await run(keyed, join);
});
