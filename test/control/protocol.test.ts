import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  Errno, ProtocolError, decodeReply, encodeReply, encodeRequest, parseRequest,
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
