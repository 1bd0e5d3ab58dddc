import { test } from 'node:test';
import assert from 'node:assert/strict';
import { DATA_HEADER_SIZE, MsgType, RESET_SIZE, SIGNAL_SIZE } from '../../src/msnl/constants.js';
import {
  decodeDataHeader,
  decodeMessage,
  encodeEcho,
  encodeProbe,
  encodeReset,
  encodeSignal,
  newDataHeader,
  writeDataHeader,
  type SignalMessage,
} from '../../src/msnl/wire.js';

const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');
const unhex = (s: string): Uint8Array => new Uint8Array(Buffer.from(s.replace(/\s+/g, ''), 'hex'));

const request: SignalMessage = {
  type: 0,
  reason: 0,
  transaction: 0xa1b2c3d4,
  origAddr: 0x80e8412a, // 128.232.65.42
  origPort: 0x0801,
  respAddr: 0x0a000002,
  respPort: 0x0802,
  ipa: 0xc0000201, // 192.0.2.1
  origConnId: 0x11223344,
  respConnId: 0,
};

test('connect request layout, octet by octet', () => {
  const fixture = unhex(`
    01 00 0000   a1b2c3d4   80e8412a 00000801   0a000002 00000802   c0000201   11223344 00000000`);
  const bytes = encodeSignal(request);
  assert.equal(bytes.length, SIGNAL_SIZE);
  assert.equal(hex(bytes), hex(fixture));
  assert.equal(bytes[0], 1, 'version at 0');
  assert.equal(bytes[1], 0, 'command code at 1');
  assert.equal(hex(bytes.subarray(2, 4)), '0000', 'reason at 2..3');
  assert.equal(hex(bytes.subarray(4, 8)), 'a1b2c3d4', 'transaction at 4..7');
  assert.equal(hex(bytes.subarray(8, 12)), '80e8412a', 'OrigAddr at 8..11');
  assert.equal(hex(bytes.subarray(12, 16)), '00000801', 'OrigPort at 12..15');
  assert.equal(hex(bytes.subarray(16, 20)), '0a000002', 'RespAddr at 16..19');
  assert.equal(hex(bytes.subarray(20, 24)), '00000802', 'RespPort at 20..23');
  assert.equal(hex(bytes.subarray(24, 28)), 'c0000201', 'ms_ipa at 24..27');
  assert.equal(hex(bytes.subarray(28, 32)), '11223344', 'originator conn id at 28..31');
  assert.equal(hex(bytes.subarray(32, 36)), '00000000', 'responder conn id at 32..35');
  assert.deepEqual(decodeMessage(fixture), { ok: true, msg: request });
});

test('confirm, disconnect, wait and redirect share the signalling layout with their historic codes', () => {
  const codes = [MsgType.CONNECT_CONFIRM, MsgType.DISCONNECT, MsgType.WAIT, MsgType.REDIRECT] as const;
  assert.deepEqual([...codes], [1, 2, 3, 4]);
  for (const type of codes) {
    const msg: SignalMessage = { ...request, type, reason: type === 1 ? 0 : 0x0102, respConnId: 0x55667788 };
    const bytes = encodeSignal(msg);
    assert.equal(hex(bytes), `01${type.toString(16).padStart(2, '0')}${type === 1 ? '0000' : '0102'}a1b2c3d480e8412a000008010a00000200000802c00002011122334455667788`);
    assert.deepEqual(decodeMessage(bytes), { ok: true, msg });
  }
});

test('signalling decoders check exact length and fields', () => {
  const good = encodeSignal(request);
  assert.deepEqual(decodeMessage(good.subarray(0, 35)), { ok: false, error: 'short' });
  const long = new Uint8Array(37);
  long.set(good);
  assert.deepEqual(decodeMessage(long), { ok: false, error: 'length' });
  assert.deepEqual(decodeMessage(encodeSignal({ ...request, origConnId: 0 })), { ok: false, error: 'field' });
  assert.deepEqual(decodeMessage(encodeSignal({ ...request, respConnId: 5 })), { ok: false, error: 'field' });
  assert.deepEqual(decodeMessage(encodeSignal({ ...request, type: 1 })), { ok: false, error: 'field' });
  const badVersion = good.slice();
  badVersion[0] = 2;
  assert.deepEqual(decodeMessage(badVersion), { ok: false, error: 'version' });
});

test('reset layout: 8 octets, never larger than any message it answers', () => {
  const fixture = unhex('01 05 0005 deadbeef');
  const bytes = encodeReset(0xdeadbeef, 5);
  assert.equal(bytes.length, RESET_SIZE);
  assert.equal(hex(bytes), hex(fixture));
  assert.equal(bytes[1], 5, 'type at 1');
  assert.equal(hex(bytes.subarray(2, 4)), '0005', 'reason at 2..3');
  assert.equal(hex(bytes.subarray(4, 8)), 'deadbeef', 'conn id at 4..7');
  assert.deepEqual(decodeMessage(fixture), { ok: true, msg: { type: 5, reason: 5, connId: 0xdeadbeef } });
  assert.deepEqual(decodeMessage(unhex('01 05 0005 00000000')), { ok: false, error: 'field' });
  assert.deepEqual(decodeMessage(unhex('01 05 0005 deadbeef 00')), { ok: false, error: 'length' });
  assert.ok(RESET_SIZE <= DATA_HEADER_SIZE + 1);
});

test('echo request and reply layout', () => {
  const fixture = unhex('01 06 0000 0a000002 0a000001 00000007 68656c6c6f');
  const bytes = encodeEcho(6, 0x0a000002, 0x0a000001, 7, new TextEncoder().encode('hello'));
  assert.equal(hex(bytes), hex(fixture));
  assert.equal(hex(bytes.subarray(4, 8)), '0a000002', 'destination address at 4..7');
  assert.equal(hex(bytes.subarray(8, 12)), '0a000001', 'source address at 8..11');
  assert.equal(hex(bytes.subarray(12, 16)), '00000007', 'identifier at 12..15');
  assert.equal(hex(bytes.subarray(16)), '68656c6c6f', 'payload from 16');
  const decoded = decodeMessage(fixture);
  assert.ok(decoded.ok && decoded.msg.type === 6);
  assert.equal(decoded.msg.ident, 7);
  assert.equal(hex(decoded.msg.payload), '68656c6c6f');
  const reply = encodeEcho(7, 0x0a000001, 0x0a000002, 7, new Uint8Array(0));
  assert.equal(hex(reply), '010700000a0000010a00000200000007');
  assert.deepEqual(decodeMessage(reply.subarray(0, 15)), { ok: false, error: 'short' });
  assert.deepEqual(decodeMessage(unhex('01 06 0001 0a000002 0a000001 00000007')), { ok: false, error: 'reserved' });
});

test('probe and probe reply layout', () => {
  const bytes = encodeProbe(8, 0x01020304, 0x0000002a, 0x000186a0);
  assert.equal(hex(bytes), '0108000001020304' + '0000002a' + '000186a0');
  assert.equal(hex(bytes.subarray(4, 8)), '01020304', 'conn id at 4..7');
  assert.equal(hex(bytes.subarray(8, 12)), '0000002a', 'sequence at 8..11');
  assert.equal(hex(bytes.subarray(12, 16)), '000186a0', 'timestamp at 12..15');
  assert.deepEqual(decodeMessage(bytes), { ok: true, msg: { type: 8, connId: 0x01020304, seq: 42, stamp: 100000 } });
  assert.equal(hex(encodeProbe(9, 1, 2, 3)), '01090000000000010000000200000003');
  assert.deepEqual(decodeMessage(unhex('01 09 0000 00000000 00000002 00000003')), { ok: false, error: 'field' });
});

test('data header layout, written in place into headroom', () => {
  const buf = new Uint8Array(DATA_HEADER_SIZE + 3 + 4);
  buf.set([0xaa, 0xbb, 0xcc], 4 + DATA_HEADER_SIZE);
  writeDataHeader(buf, 4, 0x0a0b0c0d, 0x00000100, 0x05dc, 0x05b0);
  const frame = buf.subarray(4, 4 + DATA_HEADER_SIZE + 3);
  assert.equal(hex(frame), '010a0000' + '0a0b0c0d' + '00000100' + '05dc' + '05b0' + 'aabbcc');
  assert.equal(hex(frame.subarray(4, 8)), '0a0b0c0d', 'conn id at 4..7');
  assert.equal(hex(frame.subarray(8, 12)), '00000100', 'packet sequence at 8..11');
  assert.equal(hex(frame.subarray(12, 14)), '05dc', 'total length at 12..13');
  assert.equal(hex(frame.subarray(14, 16)), '05b0', 'offset at 14..15');
  const header = newDataHeader();
  assert.equal(decodeDataHeader(frame, header), null);
  assert.deepEqual(header, { connId: 0x0a0b0c0d, packetSeq: 256, totalLength: 1500, offset: 1456, length: 3 });
  const decoded = decodeMessage(frame);
  assert.ok(decoded.ok && decoded.msg.type === 10);
  assert.equal(hex(decoded.msg.payload), 'aabbcc');
  // offset + length beyond the total, zero total, no payload: all rejected.
  assert.equal(decodeDataHeader(unhex('010a0000 00000001 00000000 0002 0001 aabb'), header), 'field');
  assert.equal(decodeDataHeader(unhex('010a0000 00000001 00000000 0000 0000 aa'), header), 'field');
  assert.equal(decodeDataHeader(unhex('010a0000 00000001 00000000 0001 0000'), header), 'short');
  assert.equal(decodeDataHeader(unhex('010a0001 00000001 00000000 0001 0000 aa'), header), 'reserved');
});

test('unknown types and short datagrams are typed errors', () => {
  assert.deepEqual(decodeMessage(unhex('01 0b 0000 00000000')), { ok: false, error: 'type' });
  assert.deepEqual(decodeMessage(unhex('01 00 00')), { ok: false, error: 'short' });
  assert.deepEqual(decodeMessage(new Uint8Array(0)), { ok: false, error: 'short' });
});
