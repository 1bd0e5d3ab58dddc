import assert from 'node:assert/strict';
import { test } from 'node:test';
import { PEER_NAMES, parseFlags } from '../../bench/flags.js';

test('parseFlags: defaults, --quick, and --seconds/--repeat over either', () => {
  const full = parseFlags([]);
  assert.deepEqual([full.seconds, full.repeat, full.only, full.out], [5, 2, undefined, undefined]);
  const quick = parseFlags(['--quick', '--out', 'x.json']);
  assert.deepEqual([quick.quick, quick.seconds, quick.repeat, quick.out, quick.importRows], [true, 1, 1, 'x.json', 10_000]);
  const narrow = parseFlags(['--quick', '--seconds', '3', '--repeat', '4']);
  assert.deepEqual([narrow.seconds, narrow.repeat, narrow.pings], [3, 4, 20]);
});

test('parseFlags: --only takes peer names, comma-separated', () => {
  assert.deepEqual(parseFlags(['--only', 'msnl,msnl IPv6']).only, ['msnl', 'msnl IPv6']);
  assert.deepEqual(parseFlags(['--only', 'node relay']).only, ['node relay']);
  assert.ok(PEER_NAMES.includes('OpenVPN'));
});

test('parseFlags: wrong arguments are named in the error', () => {
  assert.throws(() => parseFlags(['--fast']), /argument "--fast" is wrong/);
  assert.throws(() => parseFlags(['--only', 'msnl,ipsec']), /argument "--only msnl,ipsec" is wrong: "ipsec" is not one of/);
  assert.throws(() => parseFlags(['--only']), /argument "--only" is wrong: it needs a value/);
  assert.throws(() => parseFlags(['--seconds', '0']), /argument "--seconds 0" is wrong/);
  assert.throws(() => parseFlags(['--repeat', '2.5']), /argument "--repeat 2.5" is wrong/);
  assert.throws(() => parseFlags(['--out', '--quick']), /argument "--out" is wrong/);
});
