import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import { ArgumentError, parseIpv4Prefix, type Ipv4Prefix } from '../../src/abi/inet.js';
import { openStore } from '../../src/store/store.js';
import { StoreError } from '../../src/store/errors.js';
import { defaultSchemaDir, loadMigrations } from '../../src/store/migrate.js';

/** The newest schema version this msnl knows. */
const LATEST = loadMigrations(defaultSchemaDir()).length;

function tempDb(t: { after: (fn: () => void) => void }): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'msnl-store-'));
  t.after(() => fs.rmSync(dir, { recursive: true, force: true }));
  return path.join(dir, 'sub', 'msnl.db');
}

function prefix(text: string): Ipv4Prefix {
  const parsed = parseIpv4Prefix(text);
  if (parsed instanceof ArgumentError) throw parsed;
  return parsed;
}

function kindOf(fn: () => unknown): string {
  try {
    fn();
  } catch (error) {
    assert.ok(error instanceof StoreError, `expected a StoreError, got ${String(error)}`);
    return error.kind;
  }
  return 'no error';
}

test('a new database gets the schema, the directory, WAL mode and the default rows', (t) => {
  const file = tempDb(t);
  const store = openStore(file);
  const state = store.snapshot();
  assert.deepEqual(state.interfaces.map((i) => i.name), ['ms0', 'ms1', 'ms2', 'ms3']);
  assert.equal(state.host.msnlAddress, 0);
  assert.equal(state.mappings.length, 0);
  assert.ok(Object.isFrozen(state) && Object.isFrozen(state.mappings));
  store.close();
  const raw = new Database(file, { readonly: true });
  assert.equal(raw.pragma('journal_mode', { simple: true }), 'wal');
  assert.equal(raw.prepare('SELECT max(version) FROM schema_version').pluck().get(), LATEST);
  raw.close();
});

test('mappings persist, duplicates and bad rows are refused without changing anything', (t) => {
  const file = tempDb(t);
  const store = openStore(file);
  store.addMapping({ prefix: prefix('10.0.0.0/8'), msnlAddress: 0x01020304, comment: 'ten' });
  assert.throws(() => store.addMapping({ prefix: prefix('10.0.0.0/8'), msnlAddress: 5 }), /^StoreError: mapping 10\.0\.0\.0\/8 already exists$/);
  // Bypassing the TS parser: host bits set, length 33, address out of range.
  assert.equal(kindOf(() => store.addMapping({ prefix: { address: 0x0a000001, length: 8 }, msnlAddress: 1 })), 'invalid');
  assert.equal(kindOf(() => store.addMapping({ prefix: { address: 0, length: 33 }, msnlAddress: 1 })), 'invalid');
  assert.equal(kindOf(() => store.addMapping({ prefix: prefix('11.0.0.0/8'), msnlAddress: 2 ** 32 })), 'invalid');
  store.close();
  const again = openStore(file);
  const list = again.listMappings();
  assert.equal(list.length, 1);
  assert.equal(list[0]?.comment, 'ten');
  assert.equal(list[0]?.msnlAddress, 0x01020304);
  assert.equal(kindOf(() => again.delMapping(prefix('12.0.0.0/8'))), 'not-found');
  again.delMapping(prefix('10.0.0.0/8'));
  assert.equal(again.listMappings().length, 0);
  again.close();
});

test('lookup picks the longest prefix', (t) => {
  const store = openStore(tempDb(t));
  store.addMapping({ prefix: prefix('0.0.0.0/0'), msnlAddress: 1 });
  store.addMapping({ prefix: prefix('10.0.0.0/8'), msnlAddress: 2 });
  store.addMapping({ prefix: prefix('10.9.0.0/16'), msnlAddress: 3 });
  assert.equal(store.lookupMapping(0x0a090102)?.msnlAddress, 3);
  assert.equal(store.lookupMapping(0x0a080102)?.msnlAddress, 2);
  assert.equal(store.lookupMapping(0xc0000201)?.msnlAddress, 1);
  store.delMapping(prefix('0.0.0.0/0'));
  assert.equal(store.lookupMapping(0xc0000201), undefined);
  store.close();
});

test('expiry follows the injected clock', (t) => {
  let now = 1_000_000;
  const store = openStore(tempDb(t), { clock: () => now });
  store.addMapping({ prefix: prefix('10.1.0.0/16'), msnlAddress: 1, lifetimeSeconds: 60 });
  store.addMapping({ prefix: prefix('10.2.0.0/16'), msnlAddress: 2, lifetimeSeconds: 30 });
  store.addMapping({ prefix: prefix('10.3.0.0/16'), msnlAddress: 3 });
  assert.equal(store.nextExpiry(), now + 30_000);
  now += 30_000;
  assert.deepEqual(store.snapshot().mappings.map((m) => m.msnlAddress), [1, 3]);
  assert.equal(store.nextExpiry(), 1_000_000 + 60_000);
  assert.equal(store.lookupMapping(0x0a020001), undefined);
  // An expired entry does not block re-adding its prefix.
  store.addMapping({ prefix: prefix('10.2.0.0/16'), msnlAddress: 22 });
  now += 30_000;
  assert.equal(store.deleteExpired(), 1);
  assert.equal(store.nextExpiry(), undefined);
  assert.deepEqual(store.listMappings({ includeExpired: true }).map((m) => m.msnlAddress), [22, 3]);
  store.close();
});

test('import is all or nothing and names the bad line', (t) => {
  const store = openStore(tempDb(t));
  store.addMapping({ prefix: prefix('192.0.2.0/24'), msnlAddress: 9 });
  const rows = [
    { prefix: prefix('10.0.0.0/24'), msnlAddress: 1, line: 2 },
    { prefix: prefix('10.0.1.0/24'), msnlAddress: 2, line: 3 },
    { prefix: prefix('192.0.2.0/24'), msnlAddress: 3, line: 7 },
  ];
  assert.throws(() => store.importMappings(rows), /line 7: mapping 192\.0\.2\.0\/24 already exists/);
  assert.equal(store.listMappings().length, 1);
  let progress = 0;
  assert.equal(store.importMappings(rows.slice(0, 2), { every: 1, onProgress: (done) => (progress = done) }), 2);
  assert.equal(progress, 2);
  assert.deepEqual(store.listMappings().map((m) => m.origin), ['import', 'import', 'cli']);
  store.close();
});

test('interfaces, routes and host settings', (t) => {
  const file = tempDb(t);
  const store = openStore(file);
  store.setInterfaceAddress('ms1', { address: 0x0a000001, length: 24 }, true);
  store.setInterfaceAdmin('ms2', true);
  assert.equal(kindOf(() => store.setInterfaceAdmin('ms9', true)), 'invalid');
  store.addRoute({ prefix: prefix('128.232.0.0/16'), host: '127.0.0.1', port: 4000 });
  assert.equal(kindOf(() => store.addRoute({ prefix: prefix('128.232.0.0/16'), host: 'x', port: 1 })), 'exists');
  assert.equal(kindOf(() => store.addRoute({ prefix: prefix('1.2.3.4/32'), host: 'x', port: 70000 })), 'invalid');
  store.updateHost({ msnlAddress: 0x80e8412a });
  store.updateHost({ listenHost: '127.0.0.1', listenPort: 5000 });
  store.close();
  const again = openStore(file, { readonly: true });
  const state = again.snapshot();
  assert.deepEqual(state.interfaces[1], { name: 'ms1', address: 0x0a000001, prefixLength: 24, adminUp: true });
  assert.equal(state.interfaces[2]?.adminUp, true);
  assert.equal(state.interfaces[2]?.address, null);
  assert.deepEqual(state.routes, [{ prefix: { address: 0x80e80000, length: 16 }, host: '127.0.0.1', port: 4000, publicKey: null }]);
  assert.deepEqual(state.host, { msnlAddress: 0x80e8412a, listenHost: '127.0.0.1', listenPort: 5000, publicKey: null });
  assert.equal(kindOf(() => again.updateHost({ msnlAddress: 1 })), 'io');
  again.close();
});

test('the change token moves on own writes and on writes by another connection', (t) => {
  const file = tempDb(t);
  const watcher = openStore(file);
  const writer = openStore(file);
  const first = watcher.changeToken();
  assert.equal(watcher.changeToken(), first);
  writer.addMapping({ prefix: prefix('10.0.0.0/8'), msnlAddress: 1 });
  const second = watcher.changeToken();
  assert.notEqual(second, first);
  watcher.addMapping({ prefix: prefix('11.0.0.0/8'), msnlAddress: 1 });
  assert.notEqual(watcher.changeToken(), second);
  watcher.close();
  writer.close();
});

test('a newer schema is refused with a clear error', (t) => {
  const file = tempDb(t);
  openStore(file).close();
  const raw = new Database(file);
  raw.prepare('INSERT INTO schema_version (version) VALUES (99)').run();
  raw.close();
  assert.throws(() => openStore(file), (error: unknown) => {
    assert.ok(error instanceof StoreError);
    assert.equal(error.message, `database ${file} has schema version 99, newer than this msnl (${LATEST}): upgrade msnl`);
    return true;
  });
});

test('a file that is not a database is reported and left untouched', (t) => {
  const file = tempDb(t);
  fs.mkdirSync(path.dirname(file), { recursive: true });
  const garbage = Buffer.alloc(10000);
  for (let i = 0; i < garbage.length; i++) garbage[i] = (i * 7919 + 13) & 0xff;
  fs.writeFileSync(file, garbage);
  assert.equal(kindOf(() => openStore(file)), 'corrupt');
  assert.equal(kindOf(() => openStore(file, { readonly: true })), 'corrupt');
  assert.deepEqual(fs.readFileSync(file), garbage);
});

test('a write blocked by another connection fails as busy and changes nothing', (t) => {
  const file = tempDb(t);
  openStore(file).close();
  const holder = new Database(file);
  holder.exec('BEGIN IMMEDIATE');
  try {
    const store = openStore(file, { busyTimeoutMs: 50 });
    assert.equal(kindOf(() => store.addMapping({ prefix: prefix('10.0.0.0/8'), msnlAddress: 1 })), 'busy');
    assert.equal(store.listMappings().length, 0);
    store.close();
  } finally {
    holder.exec('ROLLBACK');
    holder.close();
  }
});

test('a route with several exits, priorities and a pinned MTU round-trips; deleting it deletes its exits', (t) => {
  const file = tempDb(t);
  const store = openStore(file);
  const route = {
    prefix: prefix('128.232.65.43/32'), host: '198.51.100.2', port: 7001, priority: 10,
    moreExits: [{ host: '203.0.113.2', port: 7001, priority: 20 }, { host: 'gw.example', port: 1994, priority: 0 }], mtu: 1400, publicKey: null,
  };
  store.addRoute(route);
  assert.deepEqual(store.listRoutes(), [route]);
  assert.deepEqual(store.getRoute(route.prefix), route);
  assert.equal(kindOf(() => store.addRoute({ ...route, prefix: prefix('1.2.3.4/32'), moreExits: [{ host: '198.51.100.2', port: 7001, priority: 1 }] })), 'invalid', 'an exit named twice');
  assert.equal(kindOf(() => store.addRoute({ ...route, prefix: prefix('1.2.3.5/32'), moreExits: Array.from({ length: 8 }, (_, i) => ({ host: `h${i}`, port: 1, priority: 0 })) })), 'invalid', 'nine exits');
  assert.equal(kindOf(() => store.addRoute({ ...route, prefix: prefix('1.2.3.6/32'), mtu: 100 })), 'invalid', 'an MTU under 576');
  assert.equal(kindOf(() => store.addRoute({ ...route, prefix: prefix('1.2.3.7/32'), priority: 70000 })), 'invalid');
  assert.equal(store.listRoutes().length, 1, 'the bad writes changed nothing');
  store.delRoute(route.prefix);
  store.addRoute({ prefix: route.prefix, host: '192.0.2.9', port: 1 });
  assert.deepEqual(store.listRoutes(), [{ prefix: route.prefix, host: '192.0.2.9', port: 1, publicKey: null }], 'the old exits went with the old route');
  store.close();
});
