import { test } from 'node:test';
import assert from 'node:assert/strict';
import { performance } from 'node:perf_hooks';
import { DgramUdpUnderlay } from '../../src/msdl/udp-dgram.js';
import type { UdpEndpoint } from '../../src/msdl/udp-endpoint.js';
import { DATA_HEADER_SIZE } from '../../src/msnl/constants.js';
import { MsnlEndpoint } from '../../src/msnl/endpoint.js';
import type { EndpointEvents } from '../../src/msnl/types.js';
import { waitFor } from '../helpers/wait.js';

const clock = { now: (): number => performance.now() };


function quietEvents(overrides: Partial<EndpointEvents<UdpEndpoint>>): EndpointEvents<UdpEndpoint> {
  return { incomingCall() {}, connected() {}, callFailed() {}, data() {}, disconnected() {}, idle() {}, echoReply() {}, ...overrides };
}

const quiet = { error: () => undefined, verbose: () => undefined };

test('two endpoints over node:dgram on 127.0.0.1 connect, exchange data and release', async () => {
  const underlay = new DgramUdpUnderlay(quiet);
  let a: MsnlEndpoint<UdpEndpoint> | undefined;
  let b: MsnlEndpoint<UdpEndpoint> | undefined;
  const la = await underlay.open('127.0.0.1', 0, (buf, offset, length, from) => a?.receiveFrame(buf, offset, length, from));
  const lb = await underlay.open('127.0.0.1', 0, (buf, offset, length, from) => b?.receiveFrame(buf, offset, length, from));
  const timers: NodeJS.Timeout[] = [];
  try {
    const got: { side: string; bytes: Buffer }[] = [];
    const up: number[] = [];
    const down: string[] = [];
    a = new MsnlEndpoint<UdpEndpoint>({
      localAddress: 0x0a000001, clock, transmit: (l, buf, offset, length) => la.send(l, buf, offset, length), sameLink: (x, y) => underlay.same(x, y),
      events: quietEvents({ connected: (_h, c) => up.push(c.connId), data: (_id, buf, offset, length) => got.push({ side: 'a', bytes: Buffer.from(buf.subarray(offset, offset + length)) }), disconnected: () => down.push('a') }),
    });
    const peer: MsnlEndpoint<UdpEndpoint> = new MsnlEndpoint<UdpEndpoint>({
      localAddress: 0x0a000002, clock, transmit: (l, buf, offset, length) => lb.send(l, buf, offset, length), sameLink: (x, y) => underlay.same(x, y),
      events: quietEvents({
        incomingCall: (call) => void peer.accept(call.callId, 0xc0000202),
        data: (id, buf, offset, length) => {
          const bytes = buf.subarray(offset, offset + length);
          got.push({ side: 'b', bytes: Buffer.from(bytes) });
          const reply = Buffer.alloc(DATA_HEADER_SIZE + bytes.length);
          Buffer.from(bytes).reverse().copy(reply, DATA_HEADER_SIZE);
          peer.send(id, reply, DATA_HEADER_SIZE, bytes.length);
        },
        disconnected: () => down.push('b'),
      }),
    });
    b = peer;
    const ea = a;
    timers.push(setInterval(() => ea.tick(), 20), setInterval(() => peer.tick(), 20));
    peer.listen(0x0800);
    a.connect({ remoteAddress: 0x0a000002, remotePort: 0x0800, localPort: 0x0800, ipa: 0xc0000201, link: underlay.link('127.0.0.1', Number(lb.describe().split(':')[1])) });
    await waitFor('the connection', () => up.length === 1);
    const packet = Buffer.alloc(DATA_HEADER_SIZE + 3000);
    for (let i = 0; i < 3000; i++) packet[DATA_HEADER_SIZE + i] = i & 0xff;
    assert.equal(a.send(up[0]!, packet, DATA_HEADER_SIZE, 3000), true);
    await waitFor('the echoed packet', () => got.length === 2);
    assert.equal(got[0]!.side, 'b');
    assert.deepEqual(got[0]!.bytes, packet.subarray(DATA_HEADER_SIZE));
    assert.deepEqual(got[1]!.bytes, Buffer.from(packet.subarray(DATA_HEADER_SIZE)).reverse());
    assert.equal(peer.connections()[0]!.remoteIpa, 0xc0000201);
    assert.ok(la.counters.datagramsSent >= 4 && lb.counters.datagramsReceived >= 3);
    a.disconnect(up[0]!);
    await waitFor('the release at the peer', () => down.length === 2);
    assert.deepEqual(down.sort(), ['a', 'b']);
    assert.equal(la.counters.sendErrors + lb.counters.sendErrors, 0);
  } finally {
    for (const t of timers) clearInterval(t);
    await la.close();
    await lb.close();
  }
});

test('the dgram underlay refuses oversize datagrams, reports bind errors and counts sends after close', async () => {
  const underlay = new DgramUdpUnderlay(quiet, 100);
  const la = await underlay.open('127.0.0.1', 0, () => undefined);
  const port = Number(la.describe().split(':')[1]);
  try {
    la.send(underlay.link('127.0.0.1', port), new Uint8Array(101), 0, 101);
    assert.equal(la.counters.oversize, 1);
    assert.equal(la.counters.datagramsSent, 0);
    await assert.rejects(underlay.open('127.0.0.1', port, () => undefined), /^Error: failed to bind UDP 127\.0\.0\.1:\d+: /);
  } finally {
    await la.close();
    await la.close();
  }
  la.send(underlay.link('127.0.0.1', 9), new Uint8Array(1), 0, 1);
  assert.equal(la.counters.sendErrors, 1);
});

test('the node:dgram underlay carries datagrams between two sockets and names links canonically', async () => {
  const underlay = new DgramUdpUnderlay(quiet);
  const got: Array<{ text: string; port: number }> = [];
  const links: UdpEndpoint[] = [];
  const a = await underlay.open('127.0.0.1', 0, (buf, offset, length, link) => {
    got.push({ text: Buffer.from(buf.subarray(offset, offset + length)).toString(), port: link.port });
    links.push(link);
  });
  const b = await underlay.open('127.0.0.1', 0, () => undefined);
  try {
    const aPort = Number(/:(\d+)$/.exec(a.describe())?.[1]);
    const bPort = Number(/:(\d+)$/.exec(b.describe())?.[1]);
    const reused = Buffer.from('first');
    b.send(underlay.link('127.0.0.1', aPort), reused, 0, reused.length);
    reused.write('XXXXX'); // the underlay consumed the datagram before send() returned
    b.send(underlay.link('127.0.0.1', aPort), Buffer.from('xsecond'), 1, 6);
    for (let i = 0; i < 100 && got.length < 2; i++) await new Promise((resolve) => setTimeout(resolve, 10));
    assert.deepEqual(got, [{ text: 'first', port: bPort }, { text: 'second', port: bPort }]);
    assert.equal(underlay.link('127.0.0.1', aPort), underlay.link('127.0.0.1', aPort));
    assert.equal(links[0], underlay.link('127.0.0.1', bPort), 'a received link is the route link');
    assert.equal(links[1], links[0]);
    assert.ok(underlay.same(underlay.link('127.0.0.1', aPort), { address: '127.0.0.1', port: aPort, ipv4: 0x7f000001, ipv6: null }));
    assert.ok(!underlay.same(underlay.link('127.0.0.1', aPort), underlay.link('127.0.0.1', bPort)));
  } finally {
    await a.close();
    await b.close();
  }
});
