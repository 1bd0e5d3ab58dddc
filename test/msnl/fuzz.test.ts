import { test } from 'node:test';
import assert from 'node:assert/strict';

import { MsnlEndpoint } from '../../src/msnl/endpoint.js';
import { randomUnit, seededRandom } from '../../src/base/random.js';
import { segmentPacket } from '../../src/msnl/sar.js';
import { ACK_PROBE_SIZE, ASK_PROBE_CODE, ASK_REPLY_SIZE, decodeMessage, encodeAckProbe, encodeEcho, encodeProbe, encodeReset, encodeSignal, NO_ACK, writeAckProbe, writeAskReply } from '../../src/msnl/wire.js';
import { FakeClock } from './harness.js';

/** A frame of `size` octets written by `write` (the asking probe and its reply, msnl(7) code 4, have writers only). */
const asking = (write: (b: Uint8Array) => void, size: number): Uint8Array => {
  const b = new Uint8Array(size);
  write(b);
  return b;
};

const A_ADDR = 0x0a000001;
const B_ADDR = 0x0a000002;

test('seeded fuzz: 120000 random and mutated datagrams into the decoder and the endpoint', () => {
  const clock = new FakeClock();
  const wire: { to: 'a' | 'b'; bytes: Uint8Array }[] = [];
  const events = { incomingCall() {}, connected() {}, callFailed() {}, data() {}, disconnected() {}, idle() {}, echoReply() {} };
  const a = new MsnlEndpoint<string>({ localAddress: A_ADDR, clock, random: seededRandom(11), transmit: (_l, buf, o, n) => wire.push({ to: 'b', bytes: buf.slice(o, o + n) }), events });
  const b = new MsnlEndpoint<string>({
    localAddress: B_ADDR, clock, random: seededRandom(12), transmit: (_l, buf, o, n) => wire.push({ to: 'a', bytes: buf.slice(o, o + n) }),
    events: { ...events, incomingCall: (call) => void b.accept(call.callId) },
  });
  b.listen(0x800);
  a.connect({ remoteAddress: B_ADDR, remotePort: 0x800, localPort: 0x800, ipa: 1, link: 'b' });
  for (let i = 0; i < 10 && wire.length > 0; i++) {
    const d = wire.shift()!;
    (d.to === 'a' ? a : b).receive(d.bytes, d.to === 'a' ? 'b' : 'a');
  }
  const conn = a.connections()[0]!;
  assert.ok(conn !== undefined, 'a connection to fuzz');

  // A corpus of valid messages, including ones aimed at the live connection.
  const corpus: Uint8Array[] = [
    ...[0, 1, 2, 3, 4].map((type) => encodeSignal({
      type: type as 0, reason: 0, transaction: 77, origAddr: B_ADDR, origPort: 0x800, respAddr: A_ADDR, respPort: 0x800,
      ipa: 5, origConnId: conn.remoteConnId, respConnId: type === 0 ? 0 : conn.connId,
    })),
    encodeReset(conn.remoteConnId, 5),
    encodeEcho(6, A_ADDR, B_ADDR, 3, new Uint8Array([1, 2, 3])),
    encodeEcho(7, A_ADDR, B_ADDR, 3, new Uint8Array(0)),
    encodeProbe(8, conn.connId, 1, 2),
    encodeProbe(9, conn.connId, 0, 2),
    encodeAckProbe(conn.connId, 1, 2, 0, NO_ACK),
    encodeAckProbe(conn.connId, 5, 9, 4, 1999),
    asking((b) => writeAckProbe(b, conn.connId, 6, 9, 5, 20, ASK_PROBE_CODE), ACK_PROBE_SIZE),
    asking((b) => writeAskReply(b, conn.connId, 7, 9, 5000), ASK_REPLY_SIZE),
    ...segmentPacket(new Uint8Array(5000).fill(9), conn.connId, 3),
    ...segmentPacket(new Uint8Array(100).fill(1), conn.connId, 4),
  ];
  const random = seededRandom(2024);
  const pick = (n: number): number => Math.floor(randomUnit(random) * n);
  let decodeErrors = 0;
  const before = { ...a.counters };
  for (let i = 0; i < 120000; i++) {
    let bytes: Uint8Array;
    const mode = i % 4;
    if (mode === 0) {
      bytes = new Uint8Array(pick(64));
      for (let j = 0; j < bytes.length; j++) bytes[j] = pick(256);
      if (bytes.length > 0 && pick(2) === 0) bytes[0] = 1; // reach past the version check
      if (bytes.length > 1 && pick(2) === 0) bytes[1] = pick(12);
    } else {
      bytes = corpus[pick(corpus.length)]!.slice();
      if (mode === 1 || mode === 3) {
        for (let flips = 1 + pick(3); flips > 0 && bytes.length > 0; flips--) {
          const at = pick(bytes.length);
          bytes[at] = bytes[at]! ^ (1 << pick(8));
        }
      }
      if (mode === 2 || mode === 3) bytes = bytes.subarray(0, pick(bytes.length + 1));
    }
    const decoded = decodeMessage(bytes);
    if (!decoded.ok) decodeErrors++;
    a.receive(bytes, pick(2) === 0 ? 'b' : 'x');
    if (i % 1000 === 0) {
      clock.t += 100;
      a.tick();
      wire.length = 0;
    }
  }
  assert.ok(decodeErrors > 50000, `decode errors ${decodeErrors}`);
  assert.equal(a.counters.datagramsIn - before.datagramsIn, 120000);
  assert.ok(a.counters.dropMalformed - before.dropMalformed > 50000, `malformed ${a.counters.dropMalformed}`);
  assert.ok(a.counters.dropUnknownConnection > before.dropUnknownConnection);
  assert.ok(a.counters.dropUnexpectedSignal > before.dropUnexpectedSignal);
  assert.ok(a.counters.resetsRateLimited > 0);
  assert.ok(a.reassemblyBytes <= 4 * 65535, 'reassembly memory stays bounded');
  clock.t += 10000;
  a.tick();
  assert.equal(a.reassemblyBytes, 0, 'and is freed after the timeout');
  // Still working: a fresh call completes.
  wire.length = 0;
  a.connect({ remoteAddress: B_ADDR, remotePort: 0x800, localPort: 0x900, ipa: 1, link: 'b' });
  for (let i = 0; i < 10 && wire.length > 0; i++) {
    const d = wire.shift()!;
    (d.to === 'a' ? a : b).receive(d.bytes, d.to === 'a' ? 'b' : 'a');
  }
  assert.ok(a.connections().some((c) => c.local.port === 0x900));
});
