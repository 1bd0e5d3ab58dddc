import { test } from 'node:test';
import assert from 'node:assert/strict';
import { UdpEndpoints, sameUdpEndpoint } from '../../src/msdl/udp-endpoint.js';

test('UdpEndpoints: one frozen object per peer, whether named by a route or by a received datagram', () => {
  const endpoints = new UdpEndpoints();
  const quad = endpoints.named('192.0.2.1', 1994);
  assert.deepEqual({ ...quad }, { address: '192.0.2.1', port: 1994, ipv4: 0xc0000201 });
  assert.ok(Object.isFrozen(quad));
  assert.equal(endpoints.numeric(0xc0000201, 1994), quad, 'the receive path finds the route link');
  assert.equal(endpoints.named('192.0.2.1', 1994), quad);
  assert.notEqual(endpoints.named('192.0.2.1', 1995), quad);
  const v6 = endpoints.named('2001:db8::1', 1994);
  assert.deepEqual({ ...v6 }, { address: '2001:db8::1', port: 1994, ipv4: -1 });
  assert.equal(endpoints.named('2001:db8::1', 1994), v6);
  assert.equal(endpoints.named('gw.example', 7).ipv4, -1);
  assert.equal(endpoints.named('999.1.1.1', 7).ipv4, -1, 'not a quad: kept by its text');
});

test('sameUdpEndpoint compares by identity, then by port and address text or IPv4 number', () => {
  const endpoints = new UdpEndpoints();
  const a = endpoints.named('192.0.2.1', 1994);
  assert.ok(sameUdpEndpoint(a, a));
  assert.ok(sameUdpEndpoint(a, { address: '192.0.2.1', port: 1994, ipv4: -1 }));
  assert.ok(sameUdpEndpoint(a, { address: 'gw', port: 1994, ipv4: 0xc0000201 }));
  assert.ok(!sameUdpEndpoint(a, { address: '192.0.2.1', port: 1995, ipv4: 0xc0000201 }));
  assert.ok(!sameUdpEndpoint({ address: 'x', port: 1, ipv4: -1 }, { address: 'y', port: 1, ipv4: -1 }), 'two unresolved names differ');
});
