import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  ArgumentError,
  formatDottedQuad,
  formatIpv4Prefix,
  parseDottedQuad,
  parseInterfaceAddress,
  parseIpv4Prefix,
  parseNetmask,
  prefixContains,
  prefixMask,
} from '../../src/abi/inet.js';

test('dotted quads round-trip, including the extremes', () => {
  for (const text of ['0.0.0.0', '255.255.255.255', '128.232.65.42', '10.0.0.1']) {
    const value = parseDottedQuad(text);
    assert.equal(typeof value, 'number');
    assert.equal(formatDottedQuad(value as number), text);
  }
  assert.equal(parseDottedQuad('128.232.65.42'), 0x80e8412a);
});

test('bad dotted quads give argument errors naming the text', () => {
  for (const text of ['10.0.0.300', '10.0.0', '10.0.0.0.1', '', 'a.b.c.d', '01.2.3.4', '1..2.3', ' 1.2.3.4', '1.2.3.-4']) {
    const value = parseDottedQuad(text);
    assert.ok(value instanceof ArgumentError, text);
    assert.match(value.message, new RegExp(`^argument "${text.replace(/\./g, '\\.')}" is wrong: `));
  }
});

test('prefixes: bare address is /32, host bits rejected, length bounded', () => {
  assert.deepEqual(parseIpv4Prefix('10.9.0.0/16'), { address: 0x0a090000, length: 16 });
  assert.deepEqual(parseIpv4Prefix('10.0.0.7'), { address: 0x0a000007, length: 32 });
  assert.deepEqual(parseIpv4Prefix('0.0.0.0/0'), { address: 0, length: 0 });
  const hostBits = parseIpv4Prefix('10.0.0.1/8');
  assert.ok(hostBits instanceof ArgumentError);
  assert.match(hostBits.reason, /host bits are set \(did you mean 10\.0\.0\.0\/8\?\)/);
  assert.ok(parseIpv4Prefix('10.0.0.0/33') instanceof ArgumentError);
  assert.ok(parseIpv4Prefix('10.0.0.300/32') instanceof ArgumentError);
  assert.ok(parseIpv4Prefix('10.0.0.0/') instanceof ArgumentError);
  assert.ok(parseIpv4Prefix('10.0.0.0/08') instanceof ArgumentError);
  assert.equal(formatIpv4Prefix({ address: 0x0a090000, length: 16 }), '10.9.0.0/16');
});

test('interface addresses keep host bits and take a default length', () => {
  assert.deepEqual(parseInterfaceAddress('10.77.0.1/24'), { address: 0x0a4d0001, length: 24 });
  assert.deepEqual(parseInterfaceAddress('10.77.0.1', 24), { address: 0x0a4d0001, length: 24 });
  assert.ok(parseInterfaceAddress('10.77.0.1/40') instanceof ArgumentError);
});

test('netmasks convert to lengths and reject holes', () => {
  assert.equal(parseNetmask('255.255.255.0'), 24);
  assert.equal(parseNetmask('0.0.0.0'), 0);
  assert.equal(parseNetmask('255.255.255.255'), 32);
  assert.ok(parseNetmask('255.0.255.0') instanceof ArgumentError);
  assert.equal(prefixMask(0), 0);
  assert.equal(prefixMask(32), 0xffffffff);
  assert.equal(prefixMask(16), 0xffff0000);
});

test('containment honours the prefix length', () => {
  const p = { address: 0x0a090000, length: 16 };
  assert.equal(prefixContains(p, 0x0a09ffff), true);
  assert.equal(prefixContains(p, 0x0a0a0000), false);
  assert.equal(prefixContains({ address: 0, length: 0 }, 0xdeadbeef), true);
});
