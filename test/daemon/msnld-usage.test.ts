// msnld's own argument checking: usage errors exit 1 with an Error line and start nothing.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { MSNLD, run } from '../../src/demo/topology.js';

test('msnld usage errors exit 1 with an Error line and start nothing', () => {
  const bad = run([process.execPath, MSNLD, '--log-level', 'loud', '--foreground']);
  assert.equal(bad.code, 1);
  assert.match(bad.stderr, /^Error: argument "loud" is wrong: log level must be error, info or verbose/);
  const listen = run([process.execPath, MSNLD, '--listen', '192.0.2.1', '--foreground']);
  assert.equal(listen.code, 1);
  assert.match(listen.stderr, /^Error: argument "192\.0\.2\.1" is wrong: expected HOST:PORT/);
  const octet = run([process.execPath, MSNLD, '--listen', '999.1.1.1:1994', '--foreground']);
  assert.equal(octet.code, 1, 'the rules of msnl host set listen: refused at once, not later in DNS');
  assert.match(octet.stderr, /^Error: argument "999\.1\.1\.1:1994" is wrong: /);
  const unknown = run([process.execPath, MSNLD, '--bogus']);
  assert.equal(unknown.code, 1);
  assert.match(unknown.stderr, /^Error: unknown option '--bogus'/);
});
