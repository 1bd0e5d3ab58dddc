import { test } from 'node:test';
import assert from 'node:assert/strict';
import { UdpUnderlay } from '../../src/msdl/udp.js';
import type { NativeUnderlaySocket } from '../../src/msdl/udp-native.js';
import type { UdpEndpoint } from '../../src/msdl/udp-endpoint.js';
import { waitFor } from '../helpers/wait.js';

const quiet = { error: () => undefined, verbose: () => undefined };

function portOf(socket: NativeUnderlaySocket): number {
  return Number(/:(\d+)$/.exec(socket.describe())?.[1]);
}

test('msnld\'s UDP underlay opens IPv4 natively and keeps one link per peer', async () => {
  const underlay = new UdpUnderlay(quiet);
  const got: UdpEndpoint[] = [];
  const a = await underlay.open('127.0.0.1', 0, (_buf, _offset, _length, link) => got.push(link));
  const b = await underlay.open('127.0.0.1', 0, () => undefined);
  try {
    assert.equal(a.family, 4);
    b.send(underlay.link('127.0.0.1', portOf(a)), Uint8Array.of(1, 2, 3), 0, 3);
    await waitFor('the datagram', () => got.length === 1);
    assert.equal(got[0], underlay.link('127.0.0.1', portOf(b)), 'the received link is the route link');
    assert.ok(underlay.same(got[0]!, { address: '127.0.0.1', port: portOf(b), ipv4: 0x7f000001, ipv6: null }));
  } finally {
    await a.close();
    await b.close();
  }
});

test('msnld\'s UDP underlay opens IPv6 with the batched native socket too, and :: reaches IPv4 peers', async () => {
  const underlay = new UdpUnderlay(quiet);
  const got: Array<{ link: UdpEndpoint; bytes: number[] }> = [];
  const a = await underlay.open('::1', 0, (buf, offset, length, link) => got.push({ link, bytes: [...buf.subarray(offset, offset + length)] }));
  const b = await underlay.open('::1', 0, () => undefined);
  const any = await underlay.open('::', 0, (buf, offset, length, link) => got.push({ link, bytes: [...buf.subarray(offset, offset + length)] }));
  const v4 = await underlay.open('127.0.0.1', 0, () => undefined);
  try {
    assert.equal(a.family, 6);
    assert.match(a.kind ?? '', /^batched IPv6; receive buffer /);
    assert.match(a.describe(), /^\[::1\]:\d+$/);
    // A burst of same-size datagrams: one sendmmsg (GSO run), each arrives whole and in order.
    for (let i = 0; i < 10; i++) b.send(underlay.link('::1', portOf(a)), Uint8Array.of(i, 1, 2, 3), 0, 4);
    await waitFor('ten datagrams over IPv6', () => got.length === 10);
    assert.deepEqual(got.map((g) => g.bytes[0]), [0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    assert.equal(got[0]?.link, underlay.link('::1', portOf(b)), 'the received link is the route link');
    assert.equal(got[0]?.link, underlay.link('0:0::1', portOf(b)), 'whatever the spelling');
    assert.equal(b.counters.datagramsSent, 10);
    assert.ok(b.counters.sendBatches <= 2, `sent in batches (${b.counters.sendBatches})`);
    // The dual-stack socket: an IPv4 peer is an IPv4 link both ways (IPv4-mapped on the wire).
    got.length = 0;
    v4.send(underlay.link('127.0.0.1', portOf(any)), Uint8Array.of(7), 0, 1);
    await waitFor('the IPv4 datagram on ::', () => got.length === 1);
    assert.equal(got[0]?.link, underlay.link('127.0.0.1', portOf(v4)));
    // An IPv6 link on an IPv4 socket is dropped and counted, never thrown.
    const before = underlay.unresolved;
    v4.send(underlay.link('::1', portOf(a)), Uint8Array.of(1), 0, 1);
    assert.equal(underlay.unresolved, before + 1);
  } finally {
    for (const s of [a, b, any, v4]) await s.close();
  }
});
