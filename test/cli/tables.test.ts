import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import Database from 'better-sqlite3';
import { dbFiles, sandbox, type CliResult } from '../helpers/cli.js';
import { defaultSchemaDir, loadMigrations } from '../../src/store/migrate.js';

function ok(result: CliResult): string {
  assert.equal(result.status, 0, `expected success, stderr: ${result.stderr}`);
  assert.equal(result.stderr.includes('    at '), false);
  return result.stdout;
}

function failsWith(result: CliResult, status: number, message: RegExp): void {
  assert.equal(result.status, status, `stdout: ${result.stdout} stderr: ${result.stderr}`);
  assert.match(result.stderr, /^Error: /m);
  assert.match(result.stderr, message);
  assert.equal(result.stderr.includes('    at '), false, 'no stack trace');
}

test('bad arguments exit 1 with an Error line and leave the database byte-identical', (t) => {
  const box = sandbox(t);
  ok(box.run(['map', 'add', '10.0.0.0/8', '1.2.3.4']));
  ok(box.run(['ifconfig', 'ms0', '10.1.0.1/16']));
  const before = dbFiles(box.db);
  assert.ok(before.db !== undefined);
  failsWith(box.run(['map', 'add', '10.0.0.300/32', '1.2.3.4']), 1, /^Error: argument "10\.0\.0\.300\/32" is wrong: /m);
  failsWith(box.run(['map', 'add', '10.0.0.0/33', '1.2.3.4']), 1, /^Error: argument "10\.0\.0\.0\/33" is wrong: /m);
  failsWith(box.run(['ifconfig', 'ms9', '10.0.0.1']), 1, /^Error: argument "ms9" is wrong: /m);
  failsWith(box.run(['map', 'add', '11.0.0.0/8', '1.2.3.4', 'lifetime', '-5']), 1, /argument "-5" is wrong/);
  failsWith(box.run(['route', 'add', '1.2.3.4', 'via', 'host:99999']), 1, /argument "host:99999" is wrong/);
  failsWith(box.run(['map', 'frobnicate']), 1, /^Error: /m);
  assert.deepEqual(dbFiles(box.db), before);
});

test('a bad argument on a fresh machine creates no database at all', (t) => {
  const box = sandbox(t);
  failsWith(box.run(['map', 'add', '10.0.0.0/33', '1.2.3.4']), 1, /prefix length 33/);
  assert.equal(fs.existsSync(box.db), false);
});

test('with no daemon, table edits succeed and persist', (t) => {
  const box = sandbox(t);
  ok(box.run(['map', 'add', '10.0.0.0/8', '128.232.65.42', 'comment', 'the ten net']));
  ok(box.run(['map', 'add', '10.9.0.0/16', '128.232.65.43']));
  ok(box.run(['route', 'add', '128.232.0.0/16', 'via', '127.0.0.1:4000', 'auth', 'none']));
  ok(box.run(['ifconfig', 'ms1', '10.0.0.1/24', 'up']));
  ok(box.run(['host', 'set', 'address', '128.232.65.1']));
  assert.match(ok(box.run(['map', 'show'])), /^10\.0\.0\.0\/8 msnl 128\.232\.65\.42 origin cli comment "the ten net"$/m);
  assert.match(ok(box.run(['map', 'get', '10.9.3.4'])), /^10\.9\.3\.4 10\.9\.0\.0\/16 msnl 128\.232\.65\.43 /);
  assert.match(ok(box.run(['map', 'get', '10.8.3.4'])), /msnl 128\.232\.65\.42/);
  failsWith(box.run(['map', 'get', '192.0.2.1']), 2, /no mapping for 192\.0\.2\.1/);
  failsWith(box.run(['map', 'add', '10.0.0.0/8', '1.1.1.1']), 2, /^Error: mapping 10\.0\.0\.0\/8 already exists$/m);
  assert.match(ok(box.run(['ifconfig'])), /^ms1: flags=145<UP,POINTOPOINT,NOARP>  mtu 4470\n\s+inet 10\.0\.0\.1  netmask 255\.255\.255\.0/m);

  // Read back with SQLite itself, outside msnl.
  const raw = new Database(box.db, { readonly: true });
  const mappings = raw.prepare('SELECT network, length, msnl_address, comment FROM mappings ORDER BY network, length').all();
  assert.deepEqual(mappings, [
    { network: 0x0a000000, length: 8, msnl_address: 0x80e8412a, comment: 'the ten net' },
    { network: 0x0a090000, length: 16, msnl_address: 0x80e8412b, comment: '' },
  ]);
  assert.deepEqual(raw.prepare("SELECT address, prefix_length, admin_up FROM interfaces WHERE name = 'ms1'").get(), {
    address: 0x0a000001,
    prefix_length: 24,
    admin_up: 1,
  });
  assert.deepEqual(raw.prepare('SELECT network, length, host, port FROM routes').all(), [{ network: 0x80e80000, length: 16, host: '127.0.0.1', port: 4000 }]);
  raw.close();

  ok(box.run(['map', 'del', '10.9.0.0/16']));
  failsWith(box.run(['map', 'del', '10.9.0.0/16']), 2, /mapping 10\.9\.0\.0\/16 does not exist/);
  ok(box.run(['ifconfig', 'ms1', 'delete']));
  assert.doesNotMatch(ok(box.run(['ifconfig', 'ms1'])), /inet/);
});

test('-j prints the same rows as JSON', (t) => {
  const box = sandbox(t);
  ok(box.run(['map', 'add', '10.0.0.0/8', '1.2.3.4', 'comment', 'a "quoted" one', 'lifetime', '3600']));
  const rows = JSON.parse(ok(box.run(['-j', 'map', 'show']))) as Array<Record<string, unknown>>;
  assert.ok(Array.isArray(rows));
  assert.equal(rows.length, 1);
  assert.equal(rows[0]?.prefix, '10.0.0.0/8');
  assert.equal(rows[0]?.msnl_address, '1.2.3.4');
  assert.equal(rows[0]?.comment, 'a "quoted" one');
  assert.equal(Date.parse(String(rows[0]?.expires)) - Date.parse(String(rows[0]?.created)), 3_600_000);
  const text = ok(box.run(['map', 'show']));
  assert.ok(text.includes(`expires ${String(rows[0]?.expires)}`));
  const ifaces = JSON.parse(ok(box.run(['--json', 'ifconfig', '-a']))) as Array<Record<string, unknown>>;
  assert.deepEqual(ifaces.map((i) => [i.interface, i.mtu, i.msnl_port]), [['ms0', 1500, 0x800], ['ms1', 4470, 0x801], ['ms2', 9180, 0x802], ['ms3', 65535, 0x803]]);
  assert.deepEqual(JSON.parse(ok(box.run(['-j', 'route']))), []);
  assert.deepEqual(JSON.parse(ok(box.run(['-j', 'host']))), { msnl_address: '0.0.0.0', listen: '0.0.0.0:1994', public_key: '' });
});

test('a newer schema is refused with exit 2', (t) => {
  const box = sandbox(t);
  ok(box.run(['map', 'add', '10.0.0.0/8', '1.2.3.4']));
  const raw = new Database(box.db);
  raw.prepare('INSERT INTO schema_version (version) VALUES (7)').run();
  raw.close();
  for (const args of [['map', 'show'], ['map', 'add', '11.0.0.0/8', '1.2.3.4']]) {
    failsWith(box.run(args), 2, new RegExp(`^Error: database ${box.db.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')} has schema version 7, newer than this msnl \\(${loadMigrations(defaultSchemaDir()).length}\\): upgrade msnl$`, 'm'));
  }
});

test('a locked database gives an Error line and exit 2, and no stack trace', (t) => {
  const box = sandbox(t);
  ok(box.run(['map', 'add', '10.0.0.0/8', '1.2.3.4']));
  const holder = new Database(box.db);
  holder.exec('BEGIN IMMEDIATE');
  holder.prepare("INSERT INTO routes (network, length, host, port) VALUES (1, 32, 'h', 1)").run();
  try {
    failsWith(box.run(['map', 'add', '11.0.0.0/8', '1.2.3.4']), 2, /^Error: failed to add mapping 11\.0\.0\.0\/8: database .* is locked/m);
  } finally {
    holder.exec('ROLLBACK');
    holder.close();
  }
  assert.equal(ok(box.run(['map', 'show'])).split('\n').filter(Boolean).length, 1);
});

test('a file of garbage is reported and not overwritten', (t) => {
  const box = sandbox(t);
  fs.mkdirSync(box.dir + '/state');
  const garbage = Buffer.from(Array.from({ length: 4096 }, (_, i) => (i * 131 + 7) & 0xff));
  fs.writeFileSync(box.db, garbage);
  failsWith(box.run(['map', 'add', '10.0.0.0/8', '1.2.3.4']), 2, /is not a usable msnl database .*left untouched/);
  failsWith(box.run(['map', 'show']), 2, /is not a usable msnl database/);
  assert.deepEqual(fs.readFileSync(box.db), garbage);
});

test('expired mappings are not shown, not resolved, and do not block a new entry', (t) => {
  const box = sandbox(t);
  ok(box.run(['map', 'add', '10.0.0.0/8', '1.1.1.1']));
  ok(box.run(['map', 'add', '10.1.0.0/16', '2.2.2.2', 'lifetime', '3600']));
  // Age the /16 by an hour and a second, as a clock would.
  const raw = new Database(box.db);
  raw.prepare('UPDATE mappings SET created_at = created_at - 3601000, expires_at = expires_at - 3601000 WHERE length = 16').run();
  raw.close();
  assert.deepEqual(ok(box.run(['map', 'show'])).split('\n').filter(Boolean), ['10.0.0.0/8 msnl 1.1.1.1 origin cli']);
  assert.match(ok(box.run(['map', 'get', '10.1.2.3'])), /^10\.1\.2\.3 10\.0\.0\.0\/8 msnl 1\.1\.1\.1/);
  assert.doesNotMatch(ok(box.run(['map', 'export'])), /10\.1\.0\.0/);
  ok(box.run(['map', 'add', '10.1.0.0/16', '3.3.3.3']));
  assert.match(ok(box.run(['map', 'get', '10.1.2.3'])), /msnl 3\.3\.3\.3/);
});
