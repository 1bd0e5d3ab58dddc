import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  Errno, LineReader, ProtocolError, RequestAssembler, decodeReply, encodeReply, encodeRequest, parseRequest,
  type Request,
} from '../../src/control/protocol.js';

function errnoOf(result: Request | ProtocolError): number {
  assert.ok(result instanceof ProtocolError, `expected an error, got ${JSON.stringify(result)}`);
  return result.errno;
}

test('request fixtures parse to typed requests', () => {
  assert.deepEqual(parseRequest('get=status\n\n'), { kind: 'get', what: 'status' });
  assert.deepEqual(parseRequest('get=health\nprotocol_version=1\n\n'), { kind: 'get', what: 'health' });
  assert.deepEqual(parseRequest('reload=1\n\n'), { kind: 'reload' });
  assert.deepEqual(parseRequest('disconnect=7\n\n'), { kind: 'disconnect', id: 7 });
  assert.deepEqual(parseRequest('ping=128.232.65.43\ncount=3\ninterval_ms=200\n\n'), {
    kind: 'ping', address: 0x80e8412b, addressText: '128.232.65.43', count: 3, intervalMs: 200,
  });
  assert.deepEqual(parseRequest('ping=10.0.0.1\n\n'), { kind: 'ping', address: 0x0a000001, addressText: '10.0.0.1', count: 0, intervalMs: 1000 });
});

test('encoded requests are the documented text and parse back', () => {
  const requests: Request[] = [
    { kind: 'get', what: 'connections' },
    { kind: 'reload' },
    { kind: 'disconnect', id: 4294967295 },
    { kind: 'ping', address: 0x80e8412b, addressText: '128.232.65.43', count: 0, intervalMs: 10 },
  ];
  assert.equal(encodeRequest(requests[0]!), 'get=connections\n\n');
  assert.equal(encodeRequest(requests[3]!), 'ping=128.232.65.43\ncount=0\ninterval_ms=10\n\n');
  for (const request of requests) assert.deepEqual(parseRequest(encodeRequest(request)), request);
});

test('bad requests get the documented errno', () => {
  assert.equal(errnoOf(parseRequest('get=status\nverbose=1\n')), Errno.EINVAL); // unknown key
  assert.equal(errnoOf(parseRequest('get=everything\n')), Errno.EOPNOTSUPP);
  assert.equal(errnoOf(parseRequest('set=1\n')), Errno.EINVAL);
  assert.equal(errnoOf(parseRequest('get=status\nprotocol_version=2\n')), Errno.EPROTONOSUPPORT);
  assert.equal(errnoOf(parseRequest('get=status\nget=health\n')), Errno.EINVAL); // repeated
  assert.equal(errnoOf(parseRequest('hello\n')), Errno.EINVAL); // no "="
  assert.equal(errnoOf(parseRequest('GET=status\n')), Errno.EINVAL); // not snake_case
  assert.equal(errnoOf(parseRequest('get=status\r\n')), Errno.EINVAL); // control character
  assert.equal(errnoOf(parseRequest('\n')), Errno.EINVAL); // empty
  assert.equal(errnoOf(parseRequest('reload=yes\n')), Errno.EINVAL);
  assert.equal(errnoOf(parseRequest('disconnect=07\n')), Errno.EINVAL);
  assert.equal(errnoOf(parseRequest('disconnect=4294967296\n')), Errno.EINVAL);
  assert.equal(errnoOf(parseRequest('ping=10.0.0.256\n')), Errno.EINVAL);
  assert.equal(errnoOf(parseRequest('ping=10.0.0.1\ncount=100001\n')), Errno.EINVAL);
  assert.equal(errnoOf(parseRequest('ping=10.0.0.1\ninterval_ms=9\n')), Errno.EINVAL);
  assert.equal(errnoOf(parseRequest('ping=10.0.0.1\nsize=64\n')), Errno.EINVAL);
  assert.equal(errnoOf(parseRequest('get=status\nping=1.2.3.4\n')), Errno.EINVAL); // second verb
  const message = parseRequest('get=status\nverbose=1\n');
  assert.ok(message instanceof ProtocolError);
  assert.equal(message.message, 'unknown key "verbose" for get');
});

test('reply fixtures encode and decode both ways', () => {
  const ok = 'protocol_version=1\nconnection=7\nstate=open\nerrno=0\n\n';
  assert.equal(encodeReply([['connection', '7'], ['state', 'open']]), ok);
  assert.deepEqual(decodeReply(ok), { errno: 0, message: undefined, body: [['connection', '7'], ['state', 'open']] });
  const bad = 'protocol_version=1\nmessage=no such connection 9\nerrno=-2\n\n';
  assert.equal(encodeReply([], Errno.ENOENT, 'no such connection 9'), bad);
  assert.deepEqual(decodeReply(bad), { errno: -2, message: 'no such connection 9', body: [] });
  assert.equal(encodeReply([], Errno.EINVAL, 'bad\nthing'), 'protocol_version=1\nmessage=bad?thing\nerrno=-22\n\n');
  assert.ok(decodeReply('protocol_version=2\nerrno=0\n\n') instanceof ProtocolError);
  assert.ok(decodeReply('protocol_version=1\nerrno=zero\n\n') instanceof ProtocolError);
  assert.ok(decodeReply('protocol_version=1\n\n') instanceof ProtocolError);
  assert.ok(decodeReply('protocol_version=1\nerrno=0\n') instanceof ProtocolError);
});

test('line reader joins chunks, keeps split UTF-8 intact and stops on overlong lines', () => {
  const reader = new LineReader(16);
  const bytes = Buffer.from('a=\u00e9t\u00e9\nb=2\n');
  const lines: string[] = [];
  for (let i = 0; i < bytes.length; i++) lines.push(...reader.push(bytes.subarray(i, i + 1)));
  assert.deepEqual(lines, ['a=\u00e9t\u00e9', 'b=2']);
  assert.equal(reader.buffered, 0);
  assert.deepEqual(reader.push(Buffer.from('x'.repeat(17))), []);
  assert.equal(reader.overflow, true);
  assert.deepEqual(reader.push(Buffer.from('a=1\n')), []);
});

test('line reader gives the same lines for any chunking, and stops at an overlong line inside a chunk', () => {
  const text = 'a=\u00e9t\u00e9\nb=2\n\nc=\u20ac\u20ac\u20ac\nd=\n';
  const bytes = Buffer.from(text);
  const expected = ['a=\u00e9t\u00e9', 'b=2', '', 'c=\u20ac\u20ac\u20ac', 'd='];
  for (let size = 1; size <= bytes.length; size++) {
    const reader = new LineReader(16);
    const lines: string[] = [];
    for (let i = 0; i < bytes.length; i += size) lines.push(...reader.push(bytes.subarray(i, i + size)));
    assert.deepEqual(lines, expected, `chunks of ${size}`);
    assert.equal(reader.buffered, 0);
  }
  const reader = new LineReader(16);
  // Bytes, not characters: 6 euro signs are 18 bytes.
  assert.deepEqual(reader.push(Buffer.from('a=1\nb=\u20ac\u20ac\u20ac\u20ac\u20ac\u20ac\nc=3\n')), ['a=1']);
  assert.equal(reader.overflow, true);
  assert.deepEqual(reader.push(Buffer.from('a=1\n')), []);
});

test('assembler answers every blank line, pipelined or byte by byte', () => {
  const text = 'get=status\n\nbogus\n\n\nping=10.0.0.1\ncount=1\n\n';
  const whole = new RequestAssembler().push(Buffer.from(text));
  const bytewise: ReturnType<RequestAssembler['push']> = [];
  const assembler = new RequestAssembler();
  for (const byte of Buffer.from(text)) bytewise.push(...assembler.push(Buffer.from([byte])));
  for (const events of [whole, bytewise]) {
    assert.deepEqual(events.map((e) => e.type), ['request', 'error', 'error', 'request']);
    const second = events[1]!;
    assert.ok(second.type === 'error' && second.error.errno === Errno.EINVAL && !second.fatal);
  }
});

test('assembler refuses overlong lines and requests, fatally', () => {
  const long = new RequestAssembler().push(Buffer.from(`get=${'x'.repeat(2000)}\n\n`));
  assert.equal(long.length, 1);
  assert.ok(long[0]!.type === 'error' && long[0]!.fatal && long[0]!.error.errno === Errno.EMSGSIZE);
  const many = new RequestAssembler(1024, 4).push(Buffer.from('a=1\nb=2\nc=3\nd=4\n\n'));
  assert.ok(many[0]!.type === 'error' && many[0]!.fatal && many[0]!.error.errno === Errno.EMSGSIZE);
});
