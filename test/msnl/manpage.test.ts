import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { Reason, reasonName } from '../../src/msnl/constants.js';

// dist/test/msnl -> repository root
const page = readFileSync(path.join(__dirname, '..', '..', '..', 'man', 'msnl.7'), 'utf8');

test('msnl(7) lists every reason code with the name the code prints', () => {
  for (const code of Object.values(Reason)) {
    assert.match(page, new RegExp(`^\\.It ${code} Ta ${reasonName(code)} Ta `, 'm'), `reason ${code}`);
  }
});

test('msnl(7) lists the historic command codes and the sizes the codec uses', () => {
  for (const [type, name] of [[0, 'connect request'], [1, 'connect confirm'], [2, 'disconnect'], [3, 'wait'], [4, 'redirect']] as const) {
    assert.match(page, new RegExp(`^\\.It ${type} Ta ${name}$`, 'm'));
  }
  assert.match(page, /one layout of exactly 36 octets/);
  assert.match(page, /The header is 16 octets/);
  assert.match(page, /The reset is 8 octets/);
});
