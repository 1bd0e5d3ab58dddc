import { test } from 'node:test';
import assert from 'node:assert/strict';
import { UdpEndpoints, sameUdpEndpoint } from '../../src/msdl/udp-endpoint.js';

test('UdpEndpoints: one frozen object per peer, whether named by a route or by a received datagram', () => {
  const endpoints = new UdpEndpoints();
  const quad = endpoints.named('192.0.2.1', 1994);
  assert.deepEqual({ ...quad }, { address: '192.0.2.1', port: 1994, ipv4: 0xc0000201, ipv6: null });
  assert.ok(Object.isFrozen(quad));
  assert.equal(endpoints.numeric(0xc0000201, 1994), quad, 'the receive path finds the route link');
  assert.equal(endpoints.named('192.0.2.1', 1994), quad);
  assert.notEqual(endpoints.named('192.0.2.1', 1995), quad);
  const v6 = endpoints.named('2001:db8::1', 1994);
  assert.equal(v6.address, '2001:db8::1');
  assert.equal(v6.ipv4, -1);
  assert.deepEqual([...(v6.ipv6 ?? [])], [0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1]);
  assert.equal(endpoints.named('2001:db8::1', 1994), v6);
  // The receive path finds the route link by octets, whatever spelling the route used.
  const from = new Uint8Array(40);
  from.set(v6.ipv6 ?? [], 24);
  assert.equal(endpoints.fromIpv6(from, 24, 1994), v6);
  assert.equal(endpoints.named('2001:DB8:0::1', 1994), v6, 'another spelling of the same address');
  assert.notEqual(endpoints.fromIpv6(from, 24, 1995), v6);
  // An IPv4-mapped source is the IPv4 peer.
  from.set([0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 192, 0, 2, 1], 0);
  assert.equal(endpoints.fromIpv6(from, 0, 1994), quad);
  assert.equal(endpoints.named('gw.example', 7).ipv4, -1);
  assert.equal(endpoints.named('999.1.1.1', 7).ipv4, -1, 'not a quad: kept by its text');
});

test('sameUdpEndpoint compares by identity, then by port and address text or IPv4 number', () => {
  const endpoints = new UdpEndpoints();
  const a = endpoints.named('192.0.2.1', 1994);
  assert.ok(sameUdpEndpoint(a, a));
  assert.ok(sameUdpEndpoint(a, { address: '192.0.2.1', port: 1994, ipv4: -1, ipv6: null }));
  assert.ok(sameUdpEndpoint(a, { address: 'gw', port: 1994, ipv4: 0xc0000201, ipv6: null }));
  assert.ok(!sameUdpEndpoint(a, { address: '192.0.2.1', port: 1995, ipv4: 0xc0000201, ipv6: null }));
  assert.ok(!sameUdpEndpoint({ address: 'x', port: 1, ipv4: -1, ipv6: null }, { address: 'y', port: 1, ipv4: -1, ipv6: null }), 'two unresolved names differ');
  const v6 = endpoints.named('2001:db8::1', 1);
  assert.ok(sameUdpEndpoint(v6, { address: '2001:DB8::1', port: 1, ipv4: -1, ipv6: v6.ipv6 }), 'IPv6 by octets');
});
