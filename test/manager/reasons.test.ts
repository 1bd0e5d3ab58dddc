import { test } from 'node:test';
import assert from 'node:assert/strict';
import { MmReason } from '../../src/abi/constants.js';
import { releaseReason } from '../../src/manager/reasons.js';
import { Reason } from '../../src/msnl/constants.js';

test('a peer that gave up its own call (release reason 7) is a normal release, not a lost tunnel to redial', () => {
  assert.equal(releaseReason(Reason.TIMEOUT, true), MmReason.NORMAL, 'the caller gave up after our confirm: it calls again itself');
  assert.equal(releaseReason(Reason.TIMEOUT, false), MmReason.TIMEOUT, 'our own timeout stays one');
  assert.equal(releaseReason(Reason.DEAD, false), MmReason.TIMEOUT, 'a dead connection is still redialed');
  assert.equal(releaseReason(Reason.UNKNOWN_CONNECTION, true), MmReason.TIMEOUT, 'a reset (the peer restarted) is still redialed');
  assert.equal(releaseReason(Reason.SHUTDOWN, true), MmReason.SHUTDOWN);
  assert.equal(releaseReason(Reason.NORMAL, true), MmReason.NORMAL);
});
