import { test } from 'node:test';
import assert from 'node:assert/strict';
import { performance } from 'node:perf_hooks';
import { sameUdpPeer, UdpDataLink, type UdpPeer } from '../../src/msdl/udp.js';
import { DATA_HEADER_SIZE } from '../../src/msnl/constants.js';
import { MsnlEndpoint } from '../../src/msnl/endpoint.js';
import type { EndpointEvents } from '../../src/msnl/types.js';
import { waitFor } from '../helpers/wait.js';

const clock = { now: (): number => performance.now() };


function quietEvents(overrides: Partial<EndpointEvents<UdpPeer>>): EndpointEvents<UdpPeer> {
  return { incomingCall() {}, connected() {}, callFailed() {}, data() {}, disconnected() {}, idle() {}, echoReply() {}, ...overrides };
}

test('two endpoints over UDP on 127.0.0.1 connect, exchange data and release', async () => {
  const la = await UdpDataLink.open({ address: '127.0.0.1', port: 0 });
  const lb = await UdpDataLink.open({ address: '127.0.0.1', port: 0 });
  const timers: NodeJS.Timeout[] = [];
  try {
    const got: { side: string; bytes: Buffer }[] = [];
    const up: number[] = [];
    const down: string[] = [];
    const a = new MsnlEndpoint<UdpPeer>({
      localAddress: 0x0a000001, clock, transmit: (l, buf, offset, length) => la.send(l, buf.subarray(offset, offset + length)), sameLink: sameUdpPeer,
      events: quietEvents({ connected: (_h, c) => up.push(c.connId), data: (_id, buf, offset, length) => got.push({ side: 'a', bytes: Buffer.from(buf.subarray(offset, offset + length)) }), disconnected: () => down.push('a') }),
    });
    const b: MsnlEndpoint<UdpPeer> = new MsnlEndpoint<UdpPeer>({
      localAddress: 0x0a000002, clock, transmit: (l, buf, offset, length) => lb.send(l, buf.subarray(offset, offset + length)), sameLink: sameUdpPeer,
      events: quietEvents({
        incomingCall: (call) => void b.accept(call.callId, 0xc0000202),
        data: (id, buf, offset, length) => {
          const bytes = buf.subarray(offset, offset + length);
          got.push({ side: 'b', bytes: Buffer.from(bytes) });
          const reply = Buffer.alloc(DATA_HEADER_SIZE + bytes.length);
          Buffer.from(bytes).reverse().copy(reply, DATA_HEADER_SIZE);
          b.send(id, reply, DATA_HEADER_SIZE, bytes.length);
        },
        disconnected: () => down.push('b'),
      }),
    });
    la.onReceive((bytes, from) => a.receive(bytes, from));
    lb.onReceive((bytes, from) => b.receive(bytes, from));
    timers.push(setInterval(() => a.tick(), 20), setInterval(() => b.tick(), 20));
    b.listen(0x0800);
    a.connect({ remoteAddress: 0x0a000002, remotePort: 0x0800, localPort: 0x0800, ipa: 0xc0000201, link: lb.local() });
    await waitFor('the connection', () => up.length === 1);
    const packet = Buffer.alloc(DATA_HEADER_SIZE + 3000);
    for (let i = 0; i < 3000; i++) packet[DATA_HEADER_SIZE + i] = i & 0xff;
    assert.equal(a.send(up[0]!, packet, DATA_HEADER_SIZE, 3000), true);
    await waitFor('the echoed packet', () => got.length === 2);
    assert.equal(got[0]!.side, 'b');
    assert.deepEqual(got[0]!.bytes, packet.subarray(DATA_HEADER_SIZE));
    assert.deepEqual(got[1]!.bytes, Buffer.from(packet.subarray(DATA_HEADER_SIZE)).reverse());
    assert.equal(b.connections()[0]!.remoteIpa, 0xc0000201);
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

test('the UDP link refuses oversize datagrams and reports bind errors', async () => {
  const la = await UdpDataLink.open({ address: '127.0.0.1', port: 0, maxDatagram: 100 });
  try {
    la.send(la.local(), new Uint8Array(101));
    assert.equal(la.counters.oversize, 1);
    assert.equal(la.counters.datagramsSent, 0);
    await assert.rejects(UdpDataLink.open({ address: '127.0.0.1', port: la.local().port }), /^Error: failed to bind UDP 127\.0\.0\.1:\d+: /);
  } finally {
    await la.close();
    await la.close();
  }
  la.send({ address: '127.0.0.1', port: 9 }, new Uint8Array(1));
  assert.equal(la.counters.sendErrors, 1);
});
