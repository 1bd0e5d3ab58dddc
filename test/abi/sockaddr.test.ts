import { test } from 'node:test';
import assert from 'node:assert/strict';
import { AF_INET, AF_MSNL } from '../../src/abi/constants.js';
import { DecodeError } from '../../src/abi/decode-error.js';
import { TUNNEL_INTERFACES } from '../../src/abi/interfaces.js';
import {
  decodeSockaddrIn,
  decodeSockaddrMsnl,
  encodeSockaddrIn,
  encodeSockaddrMsnl,
  sockaddrIn,
  sockaddrMsnl,
} from '../../src/abi/sockaddr.js';

const hex = (text: string): Buffer => Buffer.from(text.replace(/\s+/g, ''), 'hex');

test('AF_MSNL is "MS" and AF_INET is 2', () => {
  assert.equal(AF_MSNL, 0x4d53);
  assert.equal(Buffer.from('MS').readUInt16BE(0), AF_MSNL);
  assert.equal(AF_INET, 2);
});

test('sockaddr_in: every octet of the ms1 connect address to 10.9.0.7', () => {
  const ms1 = TUNNEL_INTERFACES[1]!;
  const buf = Buffer.alloc(16, 0xee);
  assert.equal(encodeSockaddrIn(sockaddrIn(0x0a090007, ms1.port), buf, 0), 16);
  assert.deepEqual(buf, hex('0002 0000 0a090007 00000801 00000000'));
  // Octet by octet: family in network order, sin_port zero, sin_addr, then sa_data[6..9].
  assert.equal(buf[0], 0x00);
  assert.equal(buf[1], 0x02);
  assert.equal(buf.readUInt16BE(2), 0);
  assert.deepEqual([...buf.subarray(4, 8)], [10, 9, 0, 7]);
  // sa_data starts at octet 2, so sa_data[6..9] are octets 8..11.
  const saData = buf.subarray(2, 16);
  assert.equal(saData.readUInt32BE(6), ms1.port);
  assert.deepEqual([...buf.subarray(8, 12)], [0x00, 0x00, 0x08, 0x01]);
  assert.deepEqual([...buf.subarray(12, 16)], [0, 0, 0, 0]);
  assert.deepEqual(decodeSockaddrIn(buf), { family: AF_INET, addr: 0x0a090007, msnlPort: 0x0801 });
});

test('sockaddr_in: each interface port lands in sa_data[6..9]', () => {
  for (const spec of TUNNEL_INTERFACES) {
    const buf = Buffer.alloc(16);
    encodeSockaddrIn(sockaddrIn(0xc0000201, spec.port), buf);
    assert.equal(buf.readUInt32BE(8), spec.port, spec.name);
    assert.equal(buf.readUInt32BE(4), 0xc0000201);
  }
});

test('sockaddr_msnl: every octet of a bind address, ms_ipa at offset 12', () => {
  const buf = Buffer.alloc(20, 0xee);
  assert.equal(encodeSockaddrMsnl(sockaddrMsnl(0, 0x0803, 0x0a4d0001), buf, 2), 16);
  // Octets outside [2, 18) are untouched.
  assert.deepEqual(buf, hex('eeee 4d53 0000 00000000 00000803 0a4d0001 eeee'));
  const sa = buf.subarray(2, 18);
  assert.equal(sa.readUInt16BE(0), AF_MSNL);
  assert.equal(sa.readUInt16BE(2), 0, 'flags');
  assert.equal(sa.readUInt32BE(4), 0, 'MSNL address 0 = default');
  assert.equal(sa.readUInt32BE(8), 0x0803, 'port');
  assert.deepEqual([...sa.subarray(12, 16)], [10, 77, 0, 1], 'ms_ipa');
  assert.deepEqual(decodeSockaddrMsnl(sa), { family: AF_MSNL, addr: 0, port: 0x0803, ipa: 0x0a4d0001 });
});

test('sockaddr_msnl decodes a hand-written address', () => {
  assert.deepEqual(decodeSockaddrMsnl(hex('4d53 0000 80e8412a 00000800 0a000002')), {
    family: AF_MSNL,
    addr: 0x80e8412a,
    port: 0x0800,
    ipa: 0x0a000002,
  });
});

test('sockaddr decoders reject wrong length, family, flags and padding with typed errors', () => {
  const cases: Array<[string, (b: Buffer) => unknown, string, string, number]> = [
    ['sockaddr_in short', decodeSockaddrIn, '0002 0000 0a090007 00000801 000000', 'length', 0],
    ['sockaddr_in long', decodeSockaddrIn, '0002 0000 0a090007 00000801 00000000 00', 'length', 0],
    ['sockaddr_in little-endian family', decodeSockaddrIn, '0200 0000 0a090007 00000801 00000000', 'family', 0],
    ['sockaddr_in AF_MSNL family', decodeSockaddrIn, '4d53 0000 0a090007 00000801 00000000', 'family', 0],
    ['sockaddr_in port set', decodeSockaddrIn, '0002 0050 0a090007 00000801 00000000', 'padding', 2],
    ['sockaddr_in sin_zero tail set', decodeSockaddrIn, '0002 0000 0a090007 00000801 00000100', 'padding', 12],
    ['sockaddr_msnl empty', decodeSockaddrMsnl, '', 'length', 0],
    ['sockaddr_msnl family', decodeSockaddrMsnl, '0002 0000 00000000 00000800 0a000001', 'family', 0],
    ['sockaddr_msnl flags', decodeSockaddrMsnl, '4d53 8000 00000000 00000800 0a000001', 'flags', 2],
  ];
  for (const [name, decode, bytes, code, offset] of cases) {
    const result = decode(hex(bytes));
    assert.ok(result instanceof DecodeError, name);
    assert.equal(result.code, code, name);
    assert.equal(result.offset, offset, name);
  }
});

test('sockaddr encoders refuse out-of-range values and short buffers', () => {
  assert.throws(() => encodeSockaddrIn(sockaddrIn(2 ** 32, 0x800), Buffer.alloc(16)), RangeError);
  assert.throws(() => encodeSockaddrIn(sockaddrIn(1, -1), Buffer.alloc(16)), RangeError);
  assert.throws(() => encodeSockaddrMsnl(sockaddrMsnl(0, 0x800, 1.5), Buffer.alloc(16)), RangeError);
  assert.throws(() => encodeSockaddrMsnl(sockaddrMsnl(0, 0x800, 1), Buffer.alloc(16), 1), RangeError);
});
