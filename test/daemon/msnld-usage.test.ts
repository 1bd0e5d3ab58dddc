// msnld's own argument checking: usage errors exit 1 with an Error line and start nothing.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { MSNLD, run } from '../../src/demo/topology.js';

test('msnld usage errors exit 1 with an Error line and start nothing', () => {
  const bad = run([process.execPath, MSNLD, '--log-level', 'loud', '--foreground']);
  assert.equal(bad.code, 1);
  assert.match(bad.stderr, /^Error: argument "loud" is wrong: log level must be error, warn, info or debug \(or verbose, the same as debug\)/);
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

test('a control socket path over 107 octets is a usage error and leaves no file behind', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'msnl-usage-'));
  try {
    const socket = path.join(dir, `${'s'.repeat(110)}.sock`);
    const result = run([process.execPath, MSNLD, '--socket', socket, '--db', path.join(dir, 'd.db'), '--foreground']);
    assert.equal(result.code, 1);
    assert.equal(result.stderr, 'Error: argument "--socket" is wrong: path is longer than 107 octets\n');
    assert.deepEqual(readdirSync(dir), []);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a log directory that cannot be made (under /proc) fails at once instead of spinning', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'msnl-usage-'));
  try {
    const result = run([process.execPath, MSNLD, '--log-file', '/proc/msnl-no-such/msnld.log', '--socket', path.join(dir, 's.sock'), '--db', path.join(dir, 'd.db')], 10_000);
    assert.equal(result.code, 2);
    assert.match(result.stderr, /cannot create directory \/proc\/msnl-no-such: ENOENT/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('msnld --cluster flags are checked before anything starts', () => {
  const cases: Array<[string[], RegExp]> = [
    [['--cluster', 'ftp://192.0.2.4:2379'], /^Error: argument "ftp:\/\/192\.0\.2\.4:2379" is wrong: "ftp:\/\/192\.0\.2\.4:2379": scheme must be http, https, etcd or etcds/],
    [['--cluster', 'http://192.0.2.4:2379/v3'], /an etcd URL has no path/],
    [['--cluster', 'http://192.0.2.4:2379', '--cluster-ttl', '1'], /^Error: argument "1" is wrong: cluster TTL must be a whole number of seconds, 2 to 3600/],
    [['--cluster', 'http://192.0.2.4:2379', '--cluster-cert', '/tmp/c.pem'], /^Error: argument "--cluster-cert" is wrong: a client certificate needs --cluster-key/],
    [['--cluster', 'http://192.0.2.4:2379', '--cluster-user', 'msnl'], /^Error: argument "msnl" is wrong: --cluster-user needs the password in the environment variable MSNL_CLUSTER_PASSWORD/],
    [['--cluster', 'http://192.0.2.4:2379', '--cluster-endpoint', '192.0.2.1'], /^Error: argument "192\.0\.2\.1" is wrong: expected HOST:PORT/],
  ];
  delete process.env.MSNL_CLUSTER_PASSWORD; // the children inherit this process's environment
  for (const [args, message] of cases) {
    const result = run([process.execPath, MSNLD, ...args, '--foreground']);
    assert.equal(result.code, 1, args.join(' '));
    assert.match(result.stderr, message);
  }
});
