import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import { openStore, BULK_IMPORT_ROWS } from '../../src/store/store.js';
import { loadMigrations, defaultSchemaDir } from '../../src/store/migrate.js';

function tempDb(t: { after: (fn: () => void) => void }): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'msnl-log-'));
  t.after(() => fs.rmSync(dir, { recursive: true, force: true }));
  return path.join(dir, 'msnl.db');
}

const p = (address: number, length: number): { address: number; length: number } => ({ address, length });

test('every write to mappings appends the prefixes it touched, in the same transaction', (t) => {
  const file = tempDb(t);
  const store = openStore(file);
  const other = new Database(file);
  t.after(() => {
    other.close();
    store.close();
  });
  assert.deepEqual(store.mappingLog.position(), { head: 0, pruned: 0 });
  store.addMapping({ prefix: p(0x0a000000, 8), msnlAddress: 1 });
  store.delMapping(p(0x0a000000, 8));
  other.prepare("INSERT INTO mappings (network, length, msnl_address, origin, created_at) VALUES (?, 24, 5, 'daemon', 1)").run(0x0b000000);
  other.prepare('UPDATE mappings SET network = ?, length = 16 WHERE network = ?').run(0x0c000000, 0x0b000000);
  // A failed write rolls its log rows back with it.
  assert.throws(() => store.transaction('two', () => {
    store.addMapping({ prefix: p(0x0d000000, 8), msnlAddress: 1 });
    store.addMapping({ prefix: p(0x0d000000, 8), msnlAddress: 1 });
  }));
  const log = store.mappingLog.changesSince(0, 100).map((c) => [c.seq, c.prefix?.address, c.prefix?.length]);
  assert.deepEqual(log, [
    [1, 0x0a000000, 8],
    [2, 0x0a000000, 8],
    [3, 0x0b000000, 24],
    [4, 0x0b000000, 24],
    [5, 0x0c000000, 16],
  ]);
  assert.deepEqual(store.mappingLog.changesSince(4, 100).map((c) => c.seq), [5]);
  assert.deepEqual(store.mappingLog.position(), { head: 5, pruned: 0 });
  assert.equal(store.mappingLog.value(0x0c000000, 16), 5);
  assert.equal(store.mappingLog.value(0x0b000000, 24), undefined);
});

test('bulk writes (large import, flush) log one "re-read everything" entry, and the log stays bounded', (t) => {
  const file = tempDb(t);
  const store = openStore(file);
  const other = new Database(file);
  t.after(() => {
    other.close();
    store.close();
  });
  const rows = Array.from({ length: BULK_IMPORT_ROWS + 1 }, (_, i) => ({ prefix: p(0x0a000000 + i, 32), msnlAddress: i }));
  store.importMappings(rows);
  assert.deepEqual(store.mappingLog.changesSince(0, 10), [{ seq: 1, prefix: null }]);
  assert.equal(other.prepare('SELECT bulk FROM change_log').pluck().get(), 0, 'bulk mode ends with its transaction');
  assert.equal(store.flushMappings(), BULK_IMPORT_ROWS + 1);
  assert.deepEqual(store.mappingLog.changesSince(1, 10), [{ seq: 2, prefix: null }]);
  store.importMappings(rows.slice(0, 3));
  assert.equal(store.mappingLog.changesSince(2, 10).length, 3, 'a small import logs per row');
  // Writes beyond `keep` prune the oldest rows, and position() says so.
  other.prepare('UPDATE change_log SET keep = 4').run();
  for (let i = 0; i < 6; i++) store.delMapping(p(0x0a000000 + (i % 3), 32)), store.addMapping({ prefix: p(0x0a000000 + (i % 3), 32), msnlAddress: 1 });
  const position = store.mappingLog.position();
  assert.equal(position.head, 17);
  assert.equal(position.pruned, 13);
  assert.equal(store.mappingLog.changesSince(0, 100).length, 4);
});

test('a version 2 database gains the change log on upgrade, and its rows are read in pages', (t) => {
  const file = tempDb(t);
  const raw = new Database(file);
  raw.exec('CREATE TABLE schema_version (version INTEGER NOT NULL PRIMARY KEY) STRICT');
  for (const migration of loadMigrations(defaultSchemaDir()).slice(0, 2)) {
    raw.exec(migration.sql);
    raw.prepare('INSERT INTO schema_version (version) VALUES (?)').run(migration.version);
  }
  const insert = raw.prepare("INSERT INTO mappings (network, length, msnl_address, origin, created_at, expires_at) VALUES (?, 32, ?, 'cli', 1, ?)");
  for (let i = 0; i < 10; i++) insert.run(0x0a000000 + i, i, i === 4 ? 2 : null);
  raw.close();
  const store = openStore(file, { clock: () => 5 });
  t.after(() => store.close());
  assert.deepEqual(store.mappingLog.position(), { head: 0, pruned: 0 });
  assert.equal(store.mappingLog.count(), 9, 'the expired row is not live');
  const first = store.mappingLog.page(0, 4);
  assert.equal(first.length, 16);
  assert.deepEqual(first.slice(0, 4), [1, 0x0a000000, 32, 0]);
  const second = store.mappingLog.page(first[12]!, 4);
  assert.deepEqual([second[0], second[4]], [6, 7], 'row 5 expired at 2, skipped');
  assert.deepEqual(store.mappingLog.expiredBetween(0, 5), [p(0x0a000004, 32)]);
});
