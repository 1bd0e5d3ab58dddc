import { test } from 'node:test';
import assert from 'node:assert/strict';
import { constants } from 'node:os';
import { tunError, TunError } from '../../src/tun/errors.js';

const E = constants.errno;

test('create errors say what the operator must do', () => {
  assert.equal(tunError('ms0', 'create', { errno: E.EPERM, syscall: 'TUNSETIFF' }).message, 'creating ms0 needs CAP_NET_ADMIN (run as root)');
  assert.equal(tunError('ms1', 'create', { errno: E.EBUSY, syscall: 'TUNSETIFF' }).message, 'ms1: device busy');
  assert.match(tunError('ms2', 'create', { errno: E.ENOENT, syscall: 'open /dev/net/tun' }).message, /^creating ms2 needs \/dev\/net\/tun/);
  assert.match(tunError('ms3', 'create', { errno: E.EINVAL, syscall: 'TUNSETIFF' }).message, /^ms3: failed to create: .*not a TUN device/);
});

test('other errors name the device, the action, the cause and the errno name', () => {
  const e = tunError('ms0', 'set MTU 70000', { errno: E.EINVAL, syscall: 'SIOCSIFMTU', message: 'Invalid argument' });
  assert.ok(e instanceof TunError);
  assert.equal(e.message, 'ms0: failed to set MTU 70000: Invalid argument [EINVAL] (SIOCSIFMTU)');
  assert.equal(e.code, 'EINVAL');
  assert.equal(e.ifname, 'ms0');
  assert.equal(tunError('ms0', 'read', -77 /* EBADFD */).message, 'ms0: failed to read: the device was removed');
  assert.equal(tunError('ms0', 'bring up', { errno: E.EPERM }).message, 'ms0: failed to bring up: needs CAP_NET_ADMIN (run as root)');
  assert.equal(tunError('ms0', 'watch', new Error('boom')).message, 'ms0: failed to watch: boom');
});
