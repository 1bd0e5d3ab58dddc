import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  buildIcmpEchoReply,
  buildIcmpUnreachable,
  icmpErrorAllowed,
  IcmpUnreachCode,
  ipv4Destination,
  ipv4HeaderChecksumOk,
  ipv4HeaderLength,
  ipv4Protocol,
  ipv4Source,
  ipv4TotalLength,
  ipv4Ttl,
  unreachCodeForReason,
} from '../../src/tunnel/ipv4-packet.js';

import { MmReason } from '../../src/abi/constants.js';
import { checkIpv4, internetChecksum, Ipv4Check } from '../../src/abi/ipv4.js';

const hex = (text: string): Buffer => Buffer.from(text.replace(/\s+/g, ''), 'hex');

// Fixtures computed by hand with an independent implementation (Python struct + RFC 1071 sum).
// A UDP datagram 10.77.0.2:40000 -> 10.9.0.7:53 carrying "hello msnl", DF, TTL 64.
const UDP = hex('4500 0026 1c46 4000 4011 0a23 0a4d0002 0a090007  9c40 0035 0012 0000  68656c6c6f206d736e6c');
// Its host-unreachable error from 10.77.0.1: IP checksum 0x6629, ICMP checksum 0x6077.
const UNREACH = hex(
  '4500 0038 0000 0000 4001 6629 0a4d0001 0a4d0002' +
    '03 01 6077 00000000' +
    '4500 0026 1c46 4000 4011 0a23 0a4d0002 0a090007  9c40 0035 0012 0000',
);
// Echo request 192.0.2.1 -> 192.0.2.2, id 0x1234 seq 7, 19 octets of data (odd length), TTL 63.
const ECHO = hex('4500 002f abcd 4000 3f01 0bfd c0000201 c0000202  0800 4a52 1234 0007 202122232425262728292a2b2c2d2e2f303132');
const REPLY = hex('4500 002f abcd 4000 4001 0afd c0000202 c0000201  0000 5252 1234 0007 202122232425262728292a2b2c2d2e2f303132');

test('internet checksum: the textbook header sums to 0xb861, and a correct header sums to zero', () => {
  const header = hex('4500 0073 0000 4000 4011 0000 c0a8 0001 c0a8 00c7');
  assert.equal(internetChecksum(header, 0, 20), 0xb861);
  header.writeUInt16BE(0xb861, 10);
  assert.equal(internetChecksum(header, 0, 20), 0);
  assert.ok(ipv4HeaderChecksumOk(header, 0));
  // Odd length pads with a zero octet; `initial` adds a partial sum; offsets are honoured.
  assert.equal(internetChecksum(hex('ff 0102 03'), 1, 3), ~(0x0102 + 0x0300) & 0xffff);
  assert.equal(internetChecksum(hex('0001'), 0, 2, 0x0002), 0xfffc);
  // Carries fold: 0xffff + 0x0001 = 0x1_0000 -> 0x0001 -> ~ = 0xfffe.
  assert.equal(internetChecksum(hex('ffff 0001'), 0, 4), 0xfffe);
});

test('field readers on the UDP fixture', () => {
  const buf = Buffer.concat([hex('eeeeee'), UDP]);
  assert.equal(checkIpv4(buf, 3, UDP.length), Ipv4Check.OK);
  assert.equal(ipv4HeaderLength(buf, 3), 20);
  assert.equal(ipv4TotalLength(buf, 3), 38);
  assert.equal(ipv4Protocol(buf, 3), 17);
  assert.equal(ipv4Ttl(buf, 3), 64);
  assert.equal(ipv4Source(buf, 3), 0x0a4d0002);
  assert.equal(ipv4Destination(buf, 3), 0x0a090007);
  assert.ok(ipv4HeaderChecksumOk(buf, 3));
});

test('checkIpv4 names each defect', () => {
  const bad = (mutate: (b: Buffer) => void, length = UDP.length): number => {
    const b = Buffer.from(UDP);
    mutate(b);
    return checkIpv4(b, 0, length);
  };
  assert.equal(bad(() => {}, 19), Ipv4Check.TOO_SHORT);
  assert.equal(checkIpv4(UDP, 30, 20), Ipv4Check.TOO_SHORT);
  assert.equal(bad((b) => (b[0] = 0x65)), Ipv4Check.VERSION);
  assert.equal(bad((b) => (b[0] = 0x44)), Ipv4Check.HEADER_LENGTH);
  assert.equal(bad((b) => (b[0] = 0x4f), 38), Ipv4Check.HEADER_LENGTH);
  assert.equal(bad((b) => b.writeUInt16BE(39, 2)), Ipv4Check.TOTAL_LENGTH);
  assert.equal(bad((b) => b.writeUInt16BE(19, 2)), Ipv4Check.TOTAL_LENGTH);
  assert.equal(bad((b) => b.writeUInt16BE(30, 2)), Ipv4Check.OK, 'trailing octets are allowed');
});

test('host unreachable: exact bytes, quoting header + 8 octets, checksums verified independently', () => {
  const out = Buffer.alloc(100, 0xaa);
  const n = buildIcmpUnreachable(out, 4, UDP, 0, UDP.length, IcmpUnreachCode.HOST, 0x0a4d0001);
  assert.equal(n, 56);
  assert.deepEqual(out.subarray(4, 4 + n), UNREACH);
  assert.ok(out.subarray(0, 4).every((b) => b === 0xaa) && out.subarray(4 + n).every((b) => b === 0xaa));
  assert.equal(internetChecksum(out, 4, 20), 0, 'IP header sums to zero');
  assert.equal(internetChecksum(out, 24, n - 20), 0, 'ICMP message sums to zero');
});

test('net unreachable and administratively prohibited differ only in code and checksum', () => {
  for (const code of [IcmpUnreachCode.NET, IcmpUnreachCode.ADMIN_PROHIBITED]) {
    const out = Buffer.alloc(56);
    assert.equal(buildIcmpUnreachable(out, 0, UDP, 0, UDP.length, code, 0x0a4d0001), 56);
    assert.equal(out[20], 3);
    assert.equal(out[21], code);
    // ICMP checksum changes by exactly the code difference (ones' complement arithmetic).
    assert.equal(out.readUInt16BE(22), (0x6077 + (1 - code)) & 0xffff);
    assert.equal(internetChecksum(out, 20, 36), 0);
    assert.deepEqual(out.subarray(24), UNREACH.subarray(24));
  }
});

test('a packet shorter than header + 8 is quoted whole', () => {
  const short = Buffer.from(UDP.subarray(0, 24));
  short.writeUInt16BE(24, 2);
  short.writeUInt16BE(0, 10);
  short.writeUInt16BE(internetChecksum(short, 0, 20), 10);
  const out = Buffer.alloc(64);
  const n = buildIcmpUnreachable(out, 0, short, 0, 24, IcmpUnreachCode.HOST, 0x0a4d0001);
  assert.equal(n, 20 + 8 + 24);
  assert.equal(out.readUInt16BE(2), 52);
  assert.deepEqual(out.subarray(28, 52), short);
  assert.equal(internetChecksum(out, 0, 20), 0);
  assert.equal(internetChecksum(out, 20, 32), 0);
});

test('no ICMP error about errors, later fragments, non-unicast ends, or into a small buffer', () => {
  const variant = (mutate: (b: Buffer) => void): Buffer => {
    const b = Buffer.from(UDP);
    mutate(b);
    return b;
  };
  const refused: Array<[string, Buffer]> = [
    ['ICMP error', UNREACH],
    ['later fragment', variant((b) => b.writeUInt16BE(0x0001, 6))],
    ['broadcast destination', variant((b) => b.writeUInt32BE(0xffffffff, 16))],
    ['multicast destination', variant((b) => b.writeUInt32BE(0xe0000001, 16))],
    ['unspecified source', variant((b) => b.writeUInt32BE(0, 12))],
    ['loopback source', variant((b) => b.writeUInt32BE(0x7f000001, 12))],
    ['class E source', variant((b) => b.writeUInt32BE(0xf0000001, 12))],
    ['version 6', variant((b) => (b[0] = 0x60))],
  ];
  const out = Buffer.alloc(100);
  for (const [name, packet] of refused) {
    assert.equal(icmpErrorAllowed(packet, 0, packet.length), false, name);
    assert.equal(buildIcmpUnreachable(out, 0, packet, 0, packet.length, 1, 0x0a4d0001), 0, name);
  }
  assert.equal(icmpErrorAllowed(ECHO, 0, ECHO.length), true, 'an echo request may draw an error');
  assert.equal(icmpErrorAllowed(variant((b) => b.writeUInt16BE(0x2000, 6)), 0, UDP.length), true, 'first fragment');
  assert.equal(buildIcmpUnreachable(Buffer.alloc(55), 0, UDP, 0, UDP.length, 1, 0x0a4d0001), 0);
});

test('echo reply: exact bytes into another buffer and in place', () => {
  const out = Buffer.alloc(60, 0xaa);
  assert.equal(buildIcmpEchoReply(out, 2, ECHO, 0, ECHO.length), 47);
  assert.deepEqual(out.subarray(2, 49), REPLY);
  assert.equal(out[0], 0xaa);
  assert.equal(out[49], 0xaa);
  const inPlace = Buffer.concat([hex('00'), ECHO]);
  assert.equal(buildIcmpEchoReply(inPlace, 1, inPlace, 1, ECHO.length), 47);
  assert.deepEqual(inPlace.subarray(1), REPLY);
  // Overlapping, shifted forward inside one buffer.
  const shifted = Buffer.concat([ECHO, Buffer.alloc(5)]);
  assert.equal(buildIcmpEchoReply(shifted, 5, shifted, 0, ECHO.length), 47);
  assert.deepEqual(shifted.subarray(5), REPLY);
});

test('echo reply refuses anything but a whole, valid echo request', () => {
  const variant = (mutate: (b: Buffer) => void): Buffer => {
    const b = Buffer.from(ECHO);
    mutate(b);
    return b;
  };
  const out = Buffer.alloc(64);
  const refused: Array<[string, Buffer]> = [
    ['echo reply', REPLY],
    ['UDP', UDP],
    ['bad ICMP checksum', variant((b) => b.writeUInt8(b.readUInt8(b.length - 1) ^ 1, b.length - 1))],
    ['fragment', variant((b) => b.writeUInt16BE(0x2000, 6))],
    ['code 1', variant((b) => (b[21] = 1))],
    ['truncated ICMP', variant((b) => b.writeUInt16BE(27, 2))],
  ];
  for (const [name, packet] of refused) assert.equal(buildIcmpEchoReply(out, 0, packet, 0, packet.length), 0, name);
  assert.equal(buildIcmpEchoReply(Buffer.alloc(46), 0, ECHO, 0, ECHO.length), 0, 'no room');
});

test('refusal reasons map to unreachable codes as ms(4) documents', () => {
  assert.equal(unreachCodeForReason(MmReason.NO_MAPPING), IcmpUnreachCode.NET);
  assert.equal(unreachCodeForReason(MmReason.NO_ROUTE), IcmpUnreachCode.HOST);
  assert.equal(unreachCodeForReason(MmReason.TIMEOUT), IcmpUnreachCode.HOST);
  assert.equal(unreachCodeForReason(MmReason.SHUTDOWN), IcmpUnreachCode.HOST);
  assert.equal(unreachCodeForReason(MmReason.REFUSED_BY_PEER), IcmpUnreachCode.ADMIN_PROHIBITED);
  assert.equal(unreachCodeForReason(MmReason.IPA_MISMATCH), IcmpUnreachCode.ADMIN_PROHIBITED);
  assert.equal(unreachCodeForReason(MmReason.NO_SERVICE), IcmpUnreachCode.ADMIN_PROHIBITED);
});
