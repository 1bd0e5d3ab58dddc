import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ArgumentError } from '../../src/abi/inet.js';
import {
  compareSap,
  formatMsnlAddress,
  formatMsnlPort,
  formatSap,
  parseMsnlAddress,
  parseMsnlPort,
  parseSap,
  readSap,
  writeSap,
} from '../../src/msnl/address.js';

test('MSNL addresses parse as dotted decimal; 0.0.0.0 is the host default', () => {
  assert.equal(parseMsnlAddress('128.232.65.42'), 0x80e8412a);
  assert.equal(parseMsnlAddress('0.0.0.0'), 0);
  assert.equal(formatMsnlAddress(0x80e8412a), '128.232.65.42');
  const bad = parseMsnlAddress('128.232.65');
  assert.ok(bad instanceof ArgumentError);
  assert.match(bad.message, /^argument "128\.232\.65" is wrong: MSNL address must be/);
});

test('MSNL ports are 32-bit, decimal or 0x hex', () => {
  assert.equal(parseMsnlPort('2048'), 0x800);
  assert.equal(parseMsnlPort('0x0803'), 0x803);
  assert.equal(parseMsnlPort('0XFFFFFFFF'), 0xffffffff);
  assert.equal(parseMsnlPort('4294967295'), 0xffffffff);
  assert.equal(parseMsnlPort('0'), 0);
  for (const text of ['4294967296', '-1', '0x', '0x123456789', '08', 'abc', '', ' 1', '1.5']) {
    assert.ok(parseMsnlPort(text) instanceof ArgumentError, text);
  }
  assert.equal(formatMsnlPort(0x800), '0x0800');
  assert.equal(formatMsnlPort(0x12345678), '0x12345678');
});

test('SAPs are ADDR:PORT in text and 8 octets on the wire', () => {
  const sap = parseSap('128.232.65.42:0x0801');
  assert.deepEqual(sap, { address: 0x80e8412a, port: 0x801 });
  assert.equal(formatSap({ address: 0x80e8412a, port: 0x801 }), '128.232.65.42:0x0801');
  assert.deepEqual(parseSap('10.0.0.1:7'), { address: 0x0a000001, port: 7 });
  for (const text of ['10.0.0.1', '10.0.0.1:', ':7', '10.0.0:7', '10.0.0.1:x']) {
    const bad = parseSap(text);
    assert.ok(bad instanceof ArgumentError, text);
    assert.equal(bad.argument, text);
  }
  const buf = new Uint8Array(10);
  writeSap(buf, 1, { address: 0x80e8412a, port: 0x801 });
  assert.equal(Buffer.from(buf).toString('hex'), '0080e8412a0000080100');
  assert.deepEqual(readSap(buf, 1), { address: 0x80e8412a, port: 0x801 });
  assert.equal(readSap(buf, 3), undefined);
  assert.ok(compareSap({ address: 1, port: 9 }, { address: 2, port: 0 }) < 0);
  assert.ok(compareSap({ address: 2, port: 9 }, { address: 2, port: 3 }) > 0);
  assert.equal(compareSap({ address: 2, port: 3 }, { address: 2, port: 3 }), 0);
});
