import { test } from 'node:test';
import assert from 'node:assert/strict';
import { constants } from 'node:os';
import { errnoName, sysErrorOf } from '../../src/abi/errno.js';
import { Errno } from '../../src/control/protocol.js';

const E = constants.errno;

test('errnoName names positive errnos, prefers the usual alias and keeps unknown numbers visible', () => {
  assert.equal(errnoName(E.EPERM), 'EPERM');
  assert.equal(errnoName(E.EAGAIN), 'EAGAIN', 'not EWOULDBLOCK');
  assert.equal(errnoName(95), 'EOPNOTSUPP', 'not ENOTSUP');
  assert.equal(errnoName(77), 'EBADFD', 'a Linux errno os.constants lacks');
  assert.equal(errnoName(99999), 'errno 99999');
  assert.equal(errnoName(-22), 'errno -22', 'one sign convention: negative values are converted by the caller');
});

test('every errno the control protocol carries (as -errno) is named by its key', () => {
  for (const [name, value] of Object.entries(Errno)) if (value !== 0) assert.equal(errnoName(-value), name);
});

test('sysErrorOf reads a thrown addon error or a -errno from the data path alike', () => {
  assert.deepEqual(sysErrorOf(-E.EAGAIN), { errno: E.EAGAIN, code: 'EAGAIN', message: undefined, syscall: undefined });
  const thrown = Object.assign(new Error('Address already in use'), { errno: E.EADDRINUSE, syscall: 'bind' });
  assert.deepEqual(sysErrorOf(thrown), { errno: E.EADDRINUSE, code: 'EADDRINUSE', message: 'Address already in use', syscall: 'bind' });
  assert.deepEqual(sysErrorOf(new Error('boom')), { errno: undefined, code: undefined, message: 'boom', syscall: undefined });
  assert.deepEqual(sysErrorOf(undefined), { errno: undefined, code: undefined, message: undefined, syscall: undefined });
});
