import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { IPV4_UDP_HEADERS, IPV6_UDP_HEADERS, NativeUdpUnderlay } from '../../src/msdl/udp-native.js';
import { routeMtu } from '../../src/msdl/udp-addon.js';
import type { UdpEndpoint } from '../../src/msdl/udp-endpoint.js';
import { performance } from 'node:perf_hooks';
import { createLogger } from '../../src/base/logger.js';
import { DATA_HEADER_SIZE } from '../../src/msnl/constants.js';
import { MsnlEndpoint } from '../../src/msnl/endpoint.js';
import type { EndpointEvents } from '../../src/msnl/types.js';
import { waitFor } from '../helpers/wait.js';


const quiet = createLogger('error', () => undefined);

test('links are canonical: one frozen object per IPv4 peer, shared with the receive path', async () => {
  const underlay = new NativeUdpUnderlay(quiet);
  const a = underlay.link('127.0.0.1', 4000);
  assert.equal(underlay.link('127.0.0.1', 4000), a);
  assert.deepEqual({ ...a }, { address: '127.0.0.1', port: 4000, ipv4: 0x7f000001, ipv6: null });
  assert.equal(Object.isFrozen(a), true);
  assert.notEqual(underlay.link('127.0.0.1', 4001), a);
  assert.equal(underlay.same(a, underlay.link('127.0.0.1', 4000)), true);
  assert.equal(underlay.same(a, underlay.link('127.0.0.1', 4001)), false);
  assert.equal(underlay.same(a, underlay.link('127.0.0.2', 4000)), false);
  assert.equal(underlay.same(a, { address: '127.0.0.1', port: 4000, ipv4: 0x7f000001, ipv6: null }), true, 'same by value too');
  const named = underlay.link('localhost', 4000);
  assert.equal(named.ipv4, -1);
  assert.equal(underlay.link('localhost', 4000), named);
  assert.equal(underlay.same(named, a), false);
});

test('two underlay sockets exchange datagrams; received links are the route links', async () => {
  const underlay = new NativeUdpUnderlay(quiet);
  const gotA: { bytes: Buffer; link: UdpEndpoint }[] = [];
  const gotB: { bytes: Buffer; link: UdpEndpoint }[] = [];
  const sa = await underlay.open('127.0.0.1', 0, (buf, offset, length, link) => gotA.push({ bytes: Buffer.from(buf.subarray(offset, offset + length)), link }));
  const sb = await underlay.open('127.0.0.1', 0, (buf, offset, length, link) => gotB.push({ bytes: Buffer.from(buf.subarray(offset, offset + length)), link }));
  try {
    assert.match(sa.describe(), /^127\.0\.0\.1:\d+$/);
    const pa = Number(sa.describe().split(':')[1]);
    const pb = Number(sb.describe().split(':')[1]);
    const toB = underlay.link('127.0.0.1', pb);
    const toA = underlay.link('127.0.0.1', pa);
    for (let i = 1; i <= 100; i++) sa.send(toB, new Uint8Array(i).fill(i), 0, i);
    await waitFor('100 datagrams at b', () => gotB.length === 100);
    assert.deepEqual(gotB.map((g) => g.bytes.length), Array.from({ length: 100 }, (_, i) => i + 1));
    assert.ok(gotB.every((g) => g.link === toA), 'the sender is the canonical link of its address');
    sb.send(gotB[0]?.link as UdpEndpoint, Uint8Array.of(0, 9, 9), 1, 2);
    await waitFor('the reply at a', () => gotA.length === 1);
    assert.equal(gotA[0]?.link, toB);
    assert.deepEqual([...(gotA[0]?.bytes ?? [])], [9, 9]);
    assert.equal(sa.counters.datagramsSent, 100);
    assert.equal(sb.counters.datagramsReceived, 100);
    // A host name resolves in the background; datagrams before that are counted, after it delivered.
    const named = underlay.link('localhost', pb);
    await waitFor('localhost to resolve', () => underlay.resolvedAddress('localhost') !== undefined);
    assert.equal(underlay.resolvedAddress('localhost'), 0x7f000001);
    sa.send(named, Uint8Array.of(7), 0, 1);
    await waitFor('the datagram sent by name', () => gotB.length === 101);
    assert.equal(underlay.unresolved, 0);
    sa.send(underlay.link('::1', pb), Uint8Array.of(8), 0, 1);
    assert.equal(underlay.unresolved, 1, 'an IPv6 link is dropped and counted');
  } finally {
    await sa.close();
    await sa.close();
    await sb.close();
  }
});

test('open names the address and the cause when it cannot bind', async () => {
  const underlay = new NativeUdpUnderlay(quiet);
  const s = await underlay.open('127.0.0.1', 0, () => undefined);
  try {
    const port = Number(s.describe().split(':')[1]);
    await assert.rejects(underlay.open('127.0.0.1', port, () => undefined), new RegExp(`failed to bind UDP socket 127\\.0\\.0\\.1:${port}: Address already in use \\[EADDRINUSE\\]`));
    await assert.rejects(underlay.open('fe80::1%lo', 0, () => undefined), /failed to open UDP socket \[fe80::1%lo\]:0: not a plain IPv6 address/);
    await assert.rejects(underlay.open('no-such-host.invalid', 0, () => undefined), /failed to open UDP socket no-such-host\.invalid:0: cannot resolve no-such-host\.invalid/);
  } finally {
    await s.close();
  }
});

test('two MSNL endpoints connect, exchange a segmented packet and release over the native underlay', async () => {
  const underlay = new NativeUdpUnderlay(quiet);
  const clock = { now: (): number => performance.now() };
  const quietEvents = (overrides: Partial<EndpointEvents<UdpEndpoint>>): EndpointEvents<UdpEndpoint> => ({
    incomingCall() {}, connected() {}, callFailed() {}, data() {}, disconnected() {}, idle() {}, echoReply() {}, ...overrides,
  });
  let a: MsnlEndpoint<UdpEndpoint> | undefined;
  let b: MsnlEndpoint<UdpEndpoint> | undefined;
  const sa = await underlay.open('127.0.0.1', 0, (buf, offset, length, link) => a?.receiveFrame(buf, offset, length, link));
  const sb = await underlay.open('127.0.0.1', 0, (buf, offset, length, link) => b?.receiveFrame(buf, offset, length, link));
  const timers: NodeJS.Timeout[] = [];
  try {
    const got: Buffer[] = [];
    const up: number[] = [];
    const down: string[] = [];
    a = new MsnlEndpoint<UdpEndpoint>({
      localAddress: 0x0a000001, clock, transmit: (l, buf, offset, length) => sa.send(l, buf, offset, length), sameLink: (x, y) => underlay.same(x, y),
      events: quietEvents({ connected: (_h, c) => up.push(c.connId), data: (_id, buf, offset, length) => got.push(Buffer.from(buf.subarray(offset, offset + length))), disconnected: () => down.push('a') }),
    });
    const peer: MsnlEndpoint<UdpEndpoint> = new MsnlEndpoint<UdpEndpoint>({
      localAddress: 0x0a000002, clock, transmit: (l, buf, offset, length) => sb.send(l, buf, offset, length), sameLink: (x, y) => underlay.same(x, y),
      events: quietEvents({
        incomingCall: (call) => void peer.accept(call.callId, 0xc0000202),
        data: (id, buf, offset, length) => {
          const reply = Buffer.alloc(DATA_HEADER_SIZE + length);
          Buffer.from(buf.subarray(offset, offset + length)).reverse().copy(reply, DATA_HEADER_SIZE);
          peer.send(id, reply, DATA_HEADER_SIZE, length);
        },
        disconnected: () => down.push('b'),
      }),
    });
    b = peer;
    timers.push(setInterval(() => a?.tick(), 20), setInterval(() => b?.tick(), 20));
    b.listen(0x0800);
    const toB = underlay.link('127.0.0.1', Number(sb.describe().split(':')[1]));
    a.connect({ remoteAddress: 0x0a000002, remotePort: 0x0800, localPort: 0x0800, ipa: 0xc0000201, link: toB });
    await waitFor('the connection', () => up.length === 1);
    const packet = Buffer.alloc(DATA_HEADER_SIZE + 9000);
    for (let i = 0; i < 9000; i++) packet[DATA_HEADER_SIZE + i] = (i * 31) & 0xff;
    assert.equal(a.send(up[0] as number, packet, DATA_HEADER_SIZE, 9000), true);
    await waitFor('the echoed packet', () => got.length === 1);
    assert.deepEqual(got[0], Buffer.from(packet.subarray(DATA_HEADER_SIZE)).reverse());
    assert.ok(sa.counters.datagramsSent >= 8, `the 9000-octet packet went as several datagrams (${sa.counters.datagramsSent})`);
    a.disconnect(up[0] as number);
    await waitFor('the release at both ends', () => down.length === 2);
    assert.equal(sa.counters.sendErrors + sb.counters.sendErrors + sa.counters.queueDrops + sb.counters.queueDrops, 0);
  } finally {
    for (const t of timers) clearInterval(t);
    await sa.close();
    await sb.close();
  }
});

test('receiveBufferText reports the size the kernel set, and says why when it capped the request', async () => {
  const { receiveBufferText } = await import('../../src/msdl/udp-native.js');
  assert.equal(receiveBufferText(32 << 20, 64 << 20), 'receive buffer 64 MiB');
  assert.match(receiveBufferText(32 << 20, 425984), /^receive buffer 0\.41 MiB, not the 32 MiB asked: the kernel caps it at net\.core\.rmem_max/);
});

test('pathLimit: the route MTU less 28 for IPv4 and less 48 for IPv6 (loopback); routeMtu checks its octets', (t) => {
  const underlay = new NativeUdpUnderlay(quiet);
  const loMtu = Number(readFileSync('/sys/class/net/lo/mtu', 'utf8'));
  // IPv4 reports at most 65535 (its largest packet), IPv6 the link's own 65536.
  assert.equal(underlay.pathLimit(underlay.link('127.0.0.1', 4000)), Math.min(loMtu, 65535) - IPV4_UDP_HEADERS);
  if (readFileSync('/proc/sys/net/ipv6/conf/lo/disable_ipv6', 'utf8').trim() !== '0') {
    t.diagnostic('IPv6 is disabled on lo here: only the IPv4 half and the argument checks ran');
  } else {
    assert.equal(underlay.pathLimit(underlay.link('::1', 4000)), loMtu - IPV6_UDP_HEADERS);
  }
  assert.equal(IPV6_UDP_HEADERS, 48);
  assert.throws(() => routeMtu(new Uint8Array(20), 5), /16 octets/);
  assert.throws(() => routeMtu(new Uint8Array(8)), /16 octets/);
});

test('headerOctets and linkText: both UDP underlays know the family from the link (a host name resolves to IPv4)', async () => {
  const { DgramUdpUnderlay } = await import('../../src/msdl/udp-dgram.js');
  for (const underlay of [new NativeUdpUnderlay(quiet), new DgramUdpUnderlay(quiet)]) {
    assert.equal(underlay.headerOctets(underlay.link('192.0.2.1', 1994)), IPV4_UDP_HEADERS);
    assert.equal(underlay.headerOctets(underlay.link('2001:db8::1', 1994)), IPV6_UDP_HEADERS);
    assert.equal(underlay.headerOctets(underlay.link('::ffff:192.0.2.1', 1994)), IPV4_UDP_HEADERS, 'IPv4-mapped is IPv4');
    assert.equal(underlay.headerOctets(underlay.link('localhost', 1994)), IPV4_UDP_HEADERS);
    assert.equal(underlay.linkText(underlay.link('2001:db8::1', 1994)), '[2001:db8::1]:1994');
    assert.equal(underlay.linkText(underlay.link('192.0.2.1', 1994)), '192.0.2.1:1994');
  }
});
