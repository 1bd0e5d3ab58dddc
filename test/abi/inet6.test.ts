import { test } from 'node:test';
import assert from 'node:assert/strict';
import { formatIpv6, mappedIpv4, parseIpv6 } from '../../src/abi/inet6.js';

test('parseIpv6 reads every text form to 16 octets; formatIpv6 writes RFC 5952', () => {
  const cases: Array<[string, string]> = [
    ['::', '::'],
    ['::1', '::1'],
    ['2001:db8::1', '2001:db8::1'],
    ['2001:DB8:0:0:0:0:0:1', '2001:db8::1'],
    ['2001:db8:0:1:0:0:0:1', '2001:db8:0:1::1'],
    ['2001:0:0:1:0:0:0:1', '2001:0:0:1::1'],
    ['1:2:3:4:5:6:7:8', '1:2:3:4:5:6:7:8'],
    ['1:0:3:4:5:6:7:8', '1:0:3:4:5:6:7:8'],
    ['fe80::', 'fe80::'],
    ['::ffff:192.0.2.1', '::ffff:c000:201'],
  ];
  for (const [text, formatted] of cases) {
    const octets = parseIpv6(text);
    assert.ok(octets !== null, text);
    assert.equal(octets.length, 16);
    assert.equal(formatIpv6(octets), formatted, text);
    assert.deepEqual(parseIpv6(formatted), octets, `${formatted} reads back`);
  }
  assert.deepEqual([...(parseIpv6('2001:db8::1') ?? [])], [0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1]);
  for (const bad of ['', '1.2.3.4', '2001:db8::1::2', 'gggg::1', 'fe80::1%eth0', '1:2:3:4:5:6:7:8:9']) assert.equal(parseIpv6(bad), null, bad);
});

test('mappedIpv4 finds the IPv4 address of ::ffff:A.B.C.D only', () => {
  assert.equal(mappedIpv4(parseIpv6('::ffff:192.0.2.1') as Uint8Array), 0xc0000201);
  assert.equal(mappedIpv4(parseIpv6('::192.0.2.1') as Uint8Array), -1);
  assert.equal(mappedIpv4(parseIpv6('2001:db8::1') as Uint8Array), -1);
  const shifted = new Uint8Array(20);
  shifted.set(parseIpv6('::ffff:10.0.0.1') as Uint8Array, 4);
  assert.equal(mappedIpv4(shifted, 4), 0x0a000001);
});
