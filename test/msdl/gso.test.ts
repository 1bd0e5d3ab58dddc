import { test } from 'node:test';
import assert from 'node:assert/strict';
import { constants } from 'node:os';
import { GsoPolicy, MAX_SUSPECT_GSO_FAILURES, classifyGsoFailure } from '../../src/msdl/gso.js';

const E = constants.errno;

test('classifyGsoFailure: only errnos about segmentation count', () => {
  for (const errno of [E.EIO, E.EOPNOTSUPP, E.ENOTSUP, E.ENOPROTOOPT]) assert.equal(classifyGsoFailure(errno), 'unsupported', String(errno));
  assert.equal(classifyGsoFailure(E.EINVAL), 'suspect');
  assert.equal(classifyGsoFailure(E.EMSGSIZE), 'suspect');
  for (const errno of [E.ENETUNREACH, E.ENETDOWN, E.EHOSTUNREACH, E.EPERM, E.EACCES, E.ENOBUFS, E.EAGAIN, E.ECONNREFUSED, 99999]) {
    assert.equal(classifyGsoFailure(errno), 'unrelated', String(errno));
  }
});

test('GsoPolicy: a long outage never turns GSO off; EIO does at once; EINVAL/EMSGSIZE after the limit', () => {
  const flap = new GsoPolicy();
  for (let i = 0; i < 10_000; i++) assert.equal(flap.refused(i % 2 === 0 ? E.ENETUNREACH : E.ENETDOWN), false);
  assert.equal(flap.refused(E.EIO), true);
  const mtu = new GsoPolicy();
  for (let i = 1; i < MAX_SUSPECT_GSO_FAILURES; i++) {
    assert.equal(mtu.refused(i % 2 === 0 ? E.EINVAL : E.EMSGSIZE), false);
    assert.equal(mtu.refused(E.EHOSTUNREACH), false, 'unrelated errnos do not add to the tally');
  }
  assert.equal(mtu.refused(E.EINVAL), true);
});
