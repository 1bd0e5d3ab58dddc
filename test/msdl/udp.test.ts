import { test } from 'node:test';
import assert from 'node:assert/strict';
import { UdpUnderlay } from '../../src/msdl/udp.js';
import type { UdpEndpoint } from '../../src/msdl/udp-endpoint.js';
import type { UnderlaySocket } from '../../src/msdl/underlay.js';
import { waitFor } from '../helpers/wait.js';

const quiet = { error: () => undefined, verbose: () => undefined };

test('msnld\'s UDP underlay opens IPv4 natively, IPv6 with node:dgram, and keeps one link per peer', async () => {
  const underlay = new UdpUnderlay(quiet);
  const got: UdpEndpoint[] = [];
  const a = await underlay.open('127.0.0.1', 0, (_buf, _offset, _length, link) => got.push(link));
  const b = await underlay.open('127.0.0.1', 0, () => undefined);
  let v6: UnderlaySocket<UdpEndpoint> | undefined;
  try {
    const aPort = Number(a.describe().split(':')[1]);
    const bPort = Number(b.describe().split(':')[1]);
    b.send(underlay.link('127.0.0.1', aPort), Uint8Array.of(1, 2, 3), 0, 3);
    await waitFor('the datagram', () => got.length === 1);
    assert.equal(got[0], underlay.link('127.0.0.1', bPort), 'the received link is the route link');
    assert.ok(underlay.same(got[0]!, { address: '127.0.0.1', port: bPort, ipv4: 0x7f000001 }));
    // An IPv6 address goes to node:dgram, never to the IPv4-only native socket. Where the host has
    // no IPv6 loopback the bind fails, but with node:dgram's error.
    try {
      v6 = await underlay.open('::1', 0, () => undefined);
      assert.match(v6.describe(), /^\[::1\]:\d+$/);
    } catch (error) {
      assert.match((error as Error).message, /^failed to bind UDP \[::1\]:0: /);
    }
  } finally {
    await a.close();
    await b.close();
    await v6?.close();
  }
});
