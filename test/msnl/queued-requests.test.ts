// Connect requests that waited in the callee's receive queue (msnl(7) Call set-up): a plain
// retransmission that arrived before the confirm it repeats was sent crossed it and goes
// unanswered; one that arrived after gets the confirm again; a new request older than the
// caller's call limit is dropped without making a connection. The endpoint learns each datagram's
// age from `receivedAgo` (msnld: the kernel's receive time); unknown (NaN) is "just now".
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { MsgType } from '../../src/msnl/constants.js';
import { MsnlEndpoint } from '../../src/msnl/endpoint.js';
import { seededRandom } from '../../src/base/random.js';
import { decodeMessage } from '../../src/msnl/wire.js';
import { DEFAULT_ENDPOINT_CONFIG } from '../../src/msnl/types.js';
import { FakeClock } from './harness.js';

const A_ADDR = 0x0a000001;
const B_ADDR = 0x0a000002;
const PORT = 0x0800;

function callee() {
  const clock = new FakeClock();
  const wireA: Uint8Array[] = [];
  const wireB: Uint8Array[] = [];
  const log: string[] = [];
  let ago = NaN;
  const events = (into: string[], accept: boolean) => ({
    incomingCall: (c: { callId: number }) => {
      into.push(`in ${c.callId}`);
      if (accept) b.accept(c.callId);
    },
    connected: (h: number | undefined) => into.push(`up ${h}`),
    callFailed: () => into.push('failed'),
    data: () => undefined,
    disconnected: () => into.push('down'),
    idle: () => undefined,
    echoReply: () => undefined,
  });
  const a = new MsnlEndpoint<string>({ localAddress: A_ADDR, clock, random: seededRandom(1), transmit: (_l, x, o, n) => wireA.push(x.slice(o, o + n)), events: events([], false) });
  const b: MsnlEndpoint<string> = new MsnlEndpoint<string>({
    localAddress: B_ADDR, clock, random: seededRandom(2), transmit: (_l, x, o, n) => wireB.push(x.slice(o, o + n)), events: events(log, true),
    receivedAgo: () => ago,
  });
  b.listen(PORT);
  return { clock, a, b, wireA, wireB, log, setAgo: (ms: number) => (ago = ms) };
}

const typeOf = (bytes: Uint8Array): number => {
  const d = decodeMessage(bytes);
  assert.ok(d.ok);
  return d.msg.type;
};

test('a retransmission that reached the callee before its confirm was sent goes unanswered; one after it gets the confirm again', () => {
  const { clock, a, b, wireA, wireB, log, setAgo } = callee();
  a.connect({ remoteAddress: B_ADDR, remotePort: PORT, localPort: PORT, ipa: 1, link: 'b' });
  const first = wireA.shift()!;
  clock.t += 200;
  a.tick();
  const second = wireA.shift()!; // the retransmission, sent 200 ms after the first
  assert.equal(typeOf(second), MsgType.CONNECT_REQUEST);
  clock.t += 300; // the callee reads both only now: they waited in its queue
  setAgo(500);
  b.receive(first, 'a');
  assert.deepEqual(log, ['in 1', 'up undefined']);
  assert.equal(wireB.length, 1, 'the confirm');
  assert.equal(typeOf(wireB.shift()!), MsgType.CONNECT_CONFIRM);
  setAgo(300); // arrived 300 ms ago: before the confirm just sent
  b.receive(second, 'a');
  assert.equal(wireB.length, 0, 'a crossed retransmission is not answered');
  assert.equal(b.counters.confirmsCrossed, 1);
  assert.equal(b.counters.confirmsResent, 0);
  // The confirm was lost: the caller's next retransmission arrives after it, and is answered.
  clock.t += 400;
  a.tick();
  const third = wireA.shift()!;
  setAgo(1);
  b.receive(third, 'a');
  assert.equal(wireB.length, 1);
  assert.equal(typeOf(wireB.shift()!), MsgType.CONNECT_CONFIRM);
  assert.equal(b.counters.confirmsResent, 1);
  assert.equal(b.connections().length, 1, 'never a second connection');
  // With no receive time (NaN), every retransmission is answered as before.
  setAgo(NaN);
  b.receive(second, 'a');
  assert.equal(wireB.length, 1);
  assert.equal(b.counters.confirmsResent, 2);
  assert.equal(b.counters.confirmsCrossed, 1);
});

test('a new request that waited longer than the caller\'s call limit is dropped without a connection; a younger one is taken', () => {
  const { clock, a, b, wireA, wireB, log, setAgo } = callee();
  a.connect({ remoteAddress: B_ADDR, remotePort: PORT, localPort: PORT, ipa: 1, link: 'b' });
  const request = wireA.shift()!;
  clock.t += DEFAULT_ENDPOINT_CONFIG.connectTimeoutMs + 100;
  setAgo(DEFAULT_ENDPOINT_CONFIG.connectTimeoutMs + 100);
  b.receive(request, 'a');
  assert.deepEqual(log, [], 'the manager never hears of it');
  assert.equal(wireB.length, 0, 'no answer');
  assert.equal(b.counters.requestsStale, 1);
  assert.equal(b.connections().length, 0);
  setAgo(DEFAULT_ENDPOINT_CONFIG.connectTimeoutMs - 100);
  b.receive(request, 'a');
  assert.deepEqual(log, ['in 1', 'up undefined']);
  assert.equal(wireB.length, 1);
  assert.equal(b.connections().length, 1);
  assert.equal(b.counters.requestsStale, 1);
});

test('a new request with no receive time (the first of a burst: msnld\'s socket stamps only from then on) is taken, however late', () => {
  const { clock, a, b, wireA, wireB, log, setAgo } = callee();
  a.connect({ remoteAddress: B_ADDR, remotePort: PORT, localPort: PORT, ipa: 1, link: 'b' });
  const request = wireA.shift()!;
  clock.t += DEFAULT_ENDPOINT_CONFIG.connectTimeoutMs + 100;
  setAgo(NaN);
  b.receive(request, 'a');
  assert.deepEqual(log, ['in 1', 'up undefined']);
  assert.equal(wireB.length, 1);
  assert.equal(b.counters.requestsStale, 0);
});

test('a call decided inside its event never waits in the undecided table; one left undecided does, gets waits, and can be accepted later', () => {
  const clock = new FakeClock();
  const wire: Uint8Array[] = [];
  const out: Uint8Array[] = [];
  let hold = false;
  const held: number[] = [];
  const b: MsnlEndpoint<string> = new MsnlEndpoint<string>({
    localAddress: B_ADDR, clock, random: seededRandom(3), transmit: (_l, x, o, n) => out.push(x.slice(o, o + n)),
    events: {
      incomingCall: (c) => {
        if (hold) held.push(c.callId);
        else {
          assert.equal(b.calls().length, 0, 'not in the table while its event runs');
          b.accept(c.callId);
        }
      },
      connected: () => undefined, callFailed: () => undefined, data: () => undefined, disconnected: () => undefined, idle: () => undefined, echoReply: () => undefined,
    },
  });
  b.listen(PORT);
  const a = new MsnlEndpoint<string>({ localAddress: A_ADDR, clock, random: seededRandom(4), transmit: (_l, x, o, n) => wire.push(x.slice(o, o + n)), events: { incomingCall: () => undefined, connected: () => undefined, callFailed: () => undefined, data: () => undefined, disconnected: () => undefined, idle: () => undefined, echoReply: () => undefined } });
  a.connect({ remoteAddress: B_ADDR, remotePort: PORT, localPort: PORT, ipa: 1, link: 'b' });
  b.receive(wire.shift()!, 'a');
  assert.equal(b.calls().length, 0);
  assert.equal(b.connections().length, 1);
  const confirm = out.shift()!;
  assert.equal(typeOf(confirm), MsgType.CONNECT_CONFIRM);
  a.receive(confirm, 'b');
  hold = true;
  a.connect({ remoteAddress: B_ADDR, remotePort: PORT + 1, localPort: PORT + 1, ipa: 1, link: 'b' });
  b.listen(PORT + 1);
  b.receive(wire.shift()!, 'a');
  assert.deepEqual(b.calls().map((c) => c.state), ['deciding']);
  clock.t += 200;
  a.tick();
  b.receive(wire.shift()!, 'a'); // its retransmission, while undecided: a wait, never a second call
  assert.equal(typeOf(out.shift()!), MsgType.WAIT);
  assert.equal(held.length, 1);
  assert.ok(b.accept(held[0]!) !== undefined);
  assert.equal(typeOf(out.shift()!), MsgType.CONNECT_CONFIRM);
  assert.equal(b.calls().length, 0);
  assert.equal(b.connections().length, 2);
});
