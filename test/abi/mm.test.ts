import { test } from 'node:test';
import assert from 'node:assert/strict';
import { AF_INET, AF_MSNL, MM_LENGTH, MmErrno, MmReason, MmType, type MmTypeName } from '../../src/abi/constants.js';
import { DecodeError } from '../../src/abi/decode-error.js';
import { TUNNEL_INTERFACES } from '../../src/abi/interfaces.js';
import { decodeMm, encodeMm, encodeMmToBuffer, isMmUp, mmConnOf, mmTypeOf, peekMmLength, type MmMessage } from '../../src/abi/mm.js';
import { sockaddrIn, sockaddrMsnl } from '../../src/abi/sockaddr.js';

const hex = (text: string): Buffer => Buffer.from(text.replace(/\s+/g, ''), 'hex');
const ms0 = TUNNEL_INTERFACES[0]!;
const ms2 = TUNNEL_INTERFACES[2]!;

// One hand-written fixture per message type: header | fields | sockaddr.
const FIXTURES: Array<[MmMessage, string]> = [
  [{ type: 'MMUP_BIND', sock: 7, addr: sockaddrMsnl(0, ms2.port, 0x0a4d0001) }, '0101 0018 00000007 4d53 0000 00000000 00000802 0a4d0001'],
  [{ type: 'MMUP_LISTEN', sock: 7, backlog: 16 }, '0102 000c 00000007 00000010'],
  [{ type: 'MMUP_CONNECT', sock: 7, ref: 0x01020304, peer: sockaddrIn(0x0a090007, ms2.port) }, '0103 001c 00000007 01020304 0002 0000 0a090007 00000802 00000000'],
  [{ type: 'MMUP_ACCEPT', sock: 7, conn: 0xfffffffe }, '0104 000c 00000007 fffffffe'],
  [{ type: 'MMUP_DISCONNECT', conn: 42, reason: MmReason.IDLE }, '0105 000c 0000002a 00000007'],
  [{ type: 'MMUP_DETACH', sock: 7 }, '0106 0008 00000007'],
  [{ type: 'MMUP_ASSOCBAD', conn: 42, source: sockaddrMsnl(0x80e8412a, ms0.port, 0x0a000063) }, '0107 0018 0000002a 4d53 0000 80e8412a 00000800 0a000063'],
  [{ type: 'MMDOWN_NEWCONN', sock: 7, conn: 42, peer: sockaddrIn(0x0a000002, ms0.port) }, '0201 001c 00000007 0000002a 0002 0000 0a000002 00000800 00000000'],
  [{ type: 'MMDOWN_DISCONNECT', conn: 42, reason: MmReason.MAPPING_REMOVED }, '0202 000c 0000002a 00000006'],
  [{ type: 'MMDOWN_FINAL', sock: 7 }, '0203 0008 00000007'],
  [{ type: 'MMDOWN_HOSTSET', address: 0x80e8412a }, '0204 0008 80e8412a'],
  [{ type: 'MMDOWN_ASSOCIDLE', conn: 42 }, '0205 0008 0000002a'],
  [{ type: 'MMDOWN_CONNECTED', sock: 7, ref: 0x01020304, conn: 42, peer: sockaddrIn(0x0a090007, ms2.port) }, '0206 0020 00000007 01020304 0000002a 0002 0000 0a090007 00000802 00000000'],
  [{ type: 'MMDOWN_REFUSED', sock: 7, ref: 0x01020304, reason: MmReason.NO_MAPPING, peer: sockaddrIn(0x0a090007, ms2.port) }, '0207 0020 00000007 01020304 00000001 0002 0000 0a090007 00000802 00000000'],
  [{ type: 'MMDOWN_ERROR', sock: 7, ref: 0, request: MmType.MMUP_BIND, errno: MmErrno.EADDRINUSE }, '0208 0014 00000007 00000000 0101 0000 00000062'],
];

test('every message type has a fixture, and fixture lengths match the layout table', () => {
  assert.deepEqual(new Set(FIXTURES.map(([m]) => m.type)), new Set(Object.keys(MmType)));
  for (const [msg, bytes] of FIXTURES) assert.equal(hex(bytes).length, MM_LENGTH[msg.type], msg.type);
});

test('every message encodes to its hand-written bytes and decodes back', () => {
  for (const [msg, bytes] of FIXTURES) {
    const expected = hex(bytes);
    assert.deepEqual(encodeMmToBuffer(msg), expected, msg.type);
    assert.deepEqual(decodeMm(expected), msg, msg.type);
    assert.equal(peekMmLength(expected), expected.length);
  }
});

test('encodeMm writes at an offset and leaves the rest of the buffer alone', () => {
  const [msg, bytes] = FIXTURES[2]!;
  const buf = Buffer.alloc(40, 0xaa);
  assert.equal(encodeMm(msg, buf, 5), 28);
  assert.deepEqual(buf.subarray(5, 33), hex(bytes));
  assert.ok(buf.subarray(0, 5).every((b) => b === 0xaa));
  assert.ok(buf.subarray(33).every((b) => b === 0xaa));
  assert.throws(() => encodeMm(msg, buf, 13), RangeError);
});

test('MMUP_CONNECT: sa_data[6..9] of the connect address holds the MTU service port, offset by offset', () => {
  for (const spec of TUNNEL_INTERFACES) {
    const b = encodeMmToBuffer({ type: 'MMUP_CONNECT', sock: 1, ref: 2, peer: sockaddrIn(0xc6336401, spec.port) });
    assert.equal(b.readUInt16BE(0), 0x0103);
    assert.equal(b.readUInt16BE(2), 28);
    assert.equal(b.readUInt32BE(4), 1, 'sock');
    assert.equal(b.readUInt32BE(8), 2, 'ref');
    assert.equal(b.readUInt16BE(12), AF_INET, 'sin_family');
    assert.equal(b.readUInt16BE(14), 0, 'sin_port');
    assert.deepEqual([...b.subarray(16, 20)], [198, 51, 100, 1], 'sin_addr');
    const saData = b.subarray(14, 28); // sa_data follows the 2-octet family
    assert.equal(saData.readUInt32BE(6), spec.port, `${spec.name} port in sa_data[6..9]`);
    assert.equal(b.readUInt32BE(20), spec.port);
    assert.equal(b.readUInt32BE(24), 0, 'sin_zero[4..7]');
  }
});

test('MMUP_BIND: ms_ipa sits at message offset 20 (sockaddr offset 12), address zero, port of the interface', () => {
  const b = encodeMmToBuffer({ type: 'MMUP_BIND', sock: 3, addr: sockaddrMsnl(0, ms0.port, 0x0a4d0001) });
  assert.equal(b.readUInt16BE(8), AF_MSNL);
  assert.equal(b.readUInt16BE(10), 0, 'flags');
  assert.equal(b.readUInt32BE(12), 0, 'MSNL address 0 = host default');
  assert.equal(b.readUInt32BE(16), ms0.port);
  assert.deepEqual([...b.subarray(20, 24)], [10, 77, 0, 1], 'ms_ipa');
});

test('MMDOWN_NEWCONN carries an AF_INET address of the IP peer', () => {
  const b = hex('0201 001c 00000009 00000063 0002 0000 0a000002 00000801 00000000');
  const msg = decodeMm(b);
  assert.ok(!(msg instanceof DecodeError));
  assert.equal(msg.type, 'MMDOWN_NEWCONN');
  if (msg.type !== 'MMDOWN_NEWCONN') return;
  assert.equal(msg.peer.family, AF_INET);
  assert.equal(msg.peer.addr, 0x0a000002);
  assert.equal(msg.peer.msnlPort, 0x0801);
  assert.equal(msg.sock, 9);
  assert.equal(msg.conn, 0x63);
  // An AF_MSNL address in that slot is refused.
  const wrong = hex('0201 001c 00000009 00000063 4d53 0000 0a000002 00000801 00000000');
  const err = decodeMm(wrong);
  assert.ok(err instanceof DecodeError);
  assert.equal(err.code, 'family');
  assert.equal(err.offset, 12);
});

test('up and down messages are told apart', () => {
  assert.deepEqual(
    FIXTURES.filter(([m]) => isMmUp(m)).map(([m]) => m.type),
    ['MMUP_BIND', 'MMUP_LISTEN', 'MMUP_CONNECT', 'MMUP_ACCEPT', 'MMUP_DISCONNECT', 'MMUP_DETACH', 'MMUP_ASSOCBAD'],
  );
});

test('decodeMm rejects bad input with a typed error at the right offset', () => {
  const cases: Array<[string, string, string, number]> = [
    ['empty', '', 'length', 0],
    ['half header', '0101 00', 'length', 0],
    ['unknown type', '0300 0008 00000007', 'type', 0],
    ['type zero', '0000 0008 00000007', 'type', 0],
    ['header length disagrees with type', '0106 000c 00000007 00000000', 'length', 2],
    ['buffer longer than header length', '0106 0008 00000007 00', 'length', 0],
    ['buffer shorter than header length', '0106 0008 000000', 'length', 0],
    ['unknown reason', '0105 000c 0000002a 0000000b', 'value', 8],
    ['refused with unknown reason', '0207 0020 00000007 01020304 ffffffff 0002 0000 0a090007 00000802 00000000', 'value', 12],
    ['connect with AF_MSNL peer', '0103 001c 00000007 01020304 4d53 0000 0a090007 00000802 00000000', 'family', 12],
    ['connect with sin_port', '0103 001c 00000007 01020304 0002 0001 0a090007 00000802 00000000', 'padding', 14],
    ['connected with sin_zero tail', '0206 0020 00000007 01020304 0000002a 0002 0000 0a090007 00000802 01000000', 'padding', 28],
    ['bind with flags', '0101 0018 00000007 4d53 0001 00000000 00000802 0a4d0001', 'flags', 10],
    ['assocbad with AF_INET', '0107 0018 0000002a 0002 0000 80e8412a 00000800 0a000063', 'family', 8],
    ['error naming unknown request', '0208 0014 00000007 00000000 0999 0000 00000062', 'value', 12],
    ['error with reserved set', '0208 0014 00000007 00000000 0101 0001 00000062', 'padding', 14],
    ['error with errno zero', '0208 0014 00000007 00000000 0101 0000 00000000', 'value', 16],
  ];
  for (const [name, bytes, code, offset] of cases) {
    const result = decodeMm(hex(bytes));
    assert.ok(result instanceof DecodeError, name);
    assert.equal(result.code, code, name);
    assert.equal(result.offset, offset, name);
    assert.match(result.message, /at offset/);
  }
});

test('encodeMm refuses out-of-range fields (our bugs, not input)', () => {
  const bad: MmMessage[] = [
    { type: 'MMUP_LISTEN', sock: -1, backlog: 1 },
    { type: 'MMUP_DISCONNECT', conn: 1, reason: 99 },
    { type: 'MMDOWN_HOSTSET', address: 2 ** 32 },
    { type: 'MMDOWN_ERROR', sock: 1, ref: 0, request: 0x0999, errno: 22 },
    { type: 'MMDOWN_ERROR', sock: 1, ref: 0, request: MmType.MMUP_LISTEN, errno: 0 },
    { type: 'MMUP_CONNECT', sock: 1, ref: 0, peer: sockaddrIn(1, 2 ** 40) },
  ];
  for (const msg of bad) assert.throws(() => encodeMmToBuffer(msg), RangeError, msg.type);
});

test('reason codes are distinct and contiguous from 0', () => {
  const codes = Object.values(MmReason).sort((a, b) => a - b);
  assert.deepEqual(codes, codes.map((_, i) => i));
  const names: MmTypeName[] = Object.keys(MmType) as MmTypeName[];
  assert.equal(new Set(names.map((n) => MmType[n])).size, names.length);
});

test('mmTypeOf/mmConnOf read the type and connection id a full decode gives, and -1 for what is not a message or names none', () => {
  const peer = sockaddrIn(0x0a000002, 0x0800);
  const messages: MmMessage[] = [
    { type: 'MMDOWN_NEWCONN', sock: 1, conn: 0xdeadbeef, peer },
    { type: 'MMDOWN_CONNECTED', sock: 2, ref: 7, conn: 0x80000001, peer },
    { type: 'MMDOWN_DISCONNECT', conn: 42, reason: MmReason.NORMAL },
    { type: 'MMUP_DISCONNECT', conn: 43, reason: MmReason.NORMAL },
    { type: 'MMUP_ACCEPT', sock: 1, conn: 44 },
    { type: 'MMDOWN_ASSOCIDLE', conn: 45 },
  ];
  for (const msg of messages) {
    const bytes = encodeMmToBuffer(msg);
    const type = mmTypeOf(bytes);
    assert.equal(type, MmType[msg.type], msg.type);
    assert.equal(mmConnOf(bytes, type), (msg as { conn: number }).conn, msg.type);
  }
  const final = encodeMmToBuffer({ type: 'MMDOWN_FINAL', sock: 1 });
  assert.equal(mmConnOf(final, mmTypeOf(final)), -1, 'MMDOWN_FINAL names no connection');
  assert.equal(mmTypeOf(final.subarray(0, 4)), -1, 'shorter than its type');
  assert.equal(mmTypeOf(Buffer.concat([final, Buffer.alloc(1)])), -1, 'longer than its type');
  assert.equal(mmTypeOf(Buffer.from([0xff, 0xff, 0, 8, 0, 0, 0, 0])), -1, 'unknown type');
  assert.equal(mmTypeOf(new Uint8Array(0)), -1, 'empty');
});
