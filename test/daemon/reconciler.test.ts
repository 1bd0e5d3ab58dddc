import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import { prefixMask } from '../../src/abi/inet.js';
import { seededRandom } from '../../src/base/random.js';
import { PrefixTable } from '../../src/manager/prefix-table.js';
import { openStore, type Store } from '../../src/store/store.js';
import { Reconciler, ReconcileCancelled } from '../../src/daemon/reconciler.js';

function tempDb(t: { after: (fn: () => void) => void }): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'msnl-reconcile-'));
  t.after(() => fs.rmSync(dir, { recursive: true, force: true }));
  return path.join(dir, 'msnl.db');
}

function entriesOf(reconciler: Reconciler): string[] {
  return [...reconciler.table.entries()].map((e) => `${e.network}/${e.length}=${e.value}`).sort();
}

function storedEntries(store: Store): string[] {
  return store.listMappings().map((m) => `${m.prefix.address}/${m.prefix.length}=${m.msnlAddress}`).sort();
}

/** A fresh reconciler's whole read of the store: what any sequence of deltas must equal. */
async function fresh(store: Store): Promise<Reconciler> {
  const reconciler = new Reconciler({ log: store.mappingLog, pageRows: 64 });
  await reconciler.sync(true);
  return reconciler;
}

async function assertSame(store: Store, incremental: Reconciler, next: () => number, where: string): Promise<void> {
  const rebuilt = await fresh(store);
  assert.deepEqual(entriesOf(incremental), entriesOf(rebuilt), where);
  assert.deepEqual(entriesOf(incremental), storedEntries(store), where);
  const reference = PrefixTable.build(store.listMappings().map((m) => ({ prefix: m.prefix, value: m.msnlAddress })));
  for (let i = 0; i < 300; i++) {
    const address = (0x0a000000 | (next() & 0xfff)) >>> 0;
    assert.equal(incremental.table.lookup(address), reference.lookup(address), `${where}: lookup ${address.toString(16)}`);
  }
}

function randomPrefix(next: () => number): { address: number; length: number } {
  const lengths = [8, 16, 24, 28, 32, 32, 32];
  const length = lengths[next() % lengths.length]!;
  return { address: ((0x0a000000 | (next() & 0xfff)) & prefixMask(length)) >>> 0, length };
}

test('random edit sequences applied as deltas equal a fresh whole read, by every kind of writer', async (t) => {
  const file = tempDb(t);
  const store = openStore(file);
  const other = new Database(file); // another writer (a fleet agent, sqlite3 by hand): triggers log it too
  other.pragma('busy_timeout = 5000');
  t.after(() => {
    other.close();
    store.close();
  });
  const random = seededRandom(2121);
  const next = (): number => random.u32();
  const reconciler = new Reconciler({ log: store.mappingLog, pageRows: 64 });
  await reconciler.sync(true);
  let deltas = 0;
  for (let round = 0; round < 30; round++) {
    const edits = 1 + (next() % 40);
    for (let i = 0; i < edits; i++) {
      const prefix = randomPrefix(next);
      const existing = store.getMapping(prefix);
      const choice = next() % 10;
      if (choice < 4 && existing === undefined) store.addMapping({ prefix, msnlAddress: next() });
      else if (choice < 6 && existing !== undefined) store.delMapping(prefix);
      else if (choice < 8 && existing !== undefined) other.prepare('UPDATE mappings SET msnl_address = ? WHERE network = ? AND length = ?').run(next(), prefix.address, prefix.length);
      else if (choice === 8 && existing === undefined) {
        other.prepare("INSERT INTO mappings (network, length, msnl_address, origin, created_at) VALUES (?, ?, ?, 'daemon', 1)").run(prefix.address, prefix.length, next());
      } else if (existing === undefined) {
        // A failed transaction: nothing it did may reach the log.
        assert.throws(() => store.transaction('fail', () => {
          store.addMapping({ prefix, msnlAddress: 1 });
          store.addMapping({ prefix, msnlAddress: 2 });
        }));
      }
    }
    if (round % 10 === 9) {
      // A small import logs per row; a flush logs one "re-read everything".
      store.importMappings([{ prefix: { address: 0x0b000000 + round * 256, length: 24 }, msnlAddress: round }]);
      if (round === 19) store.flushMappings();
    }
    const result = await reconciler.sync();
    if (result.kind === 'delta') deltas++;
    await assertSame(store, reconciler, next, `round ${round}`);
  }
  assert.ok(deltas >= 25, `most rounds were deltas (${deltas})`);
  assert.equal(reconciler.fullReads, 2, 'the start and the flush read the whole table, nothing else did');
});

test('a whole read in slices sees the writes made between its pages, and never blocks in one go', async (t) => {
  const file = tempDb(t);
  const store = openStore(file);
  t.after(() => store.close());
  const rows = Array.from({ length: 5000 }, (_, i) => ({ prefix: { address: (0x0a000000 + i) >>> 0, length: 32 }, msnlAddress: i }));
  store.importMappings(rows); // bulk: one log entry
  assert.equal(store.mappingLog.changesSince(0, 10).length, 1);
  let pauses = 0;
  let clock = 0;
  const reconciler = new Reconciler({
    log: store.mappingLog,
    pageRows: 100,
    sliceMs: 1,
    monotonic: () => (clock += 1), // every page "takes" over a slice
    pause: async () => {
      pauses++;
      // Meanwhile: one row already read goes, one not yet read changes, a new one comes.
      if (pauses === 3) {
        store.delMapping({ address: 0x0a000001, length: 32 });
        store.transaction('edit', () => {
          store.delMapping({ address: 0x0a001000, length: 32 });
          store.addMapping({ prefix: { address: 0x0a001000, length: 32 }, msnlAddress: 99 });
        });
        store.addMapping({ prefix: { address: 0x0c000000, length: 8 }, msnlAddress: 7 });
      }
    },
  });
  const result = await reconciler.sync();
  assert.equal(result.kind, 'full');
  assert.ok(pauses >= 40, `yielded between pages (${pauses})`);
  assert.deepEqual(entriesOf(reconciler), storedEntries(store));
  assert.equal(reconciler.table.get(0x0a001000, 32), 99);
  assert.equal(reconciler.table.get(0x0a000001, 32), undefined);
  assert.equal(reconciler.appliedSeq, store.mappingLog.position().head);
  // A forced read over an unchanged store changes nothing and keeps every entry.
  await reconciler.sync(true);
  assert.deepEqual(entriesOf(reconciler), storedEntries(store));
});

test('a log pruned past what was applied, and bulk writes, make a whole read; expiry needs no write', async (t) => {
  const file = tempDb(t);
  let now = 1_000_000;
  const store = openStore(file, { clock: () => now });
  const other = new Database(file);
  t.after(() => {
    other.close();
    store.close();
  });
  const reconciler = new Reconciler({ log: store.mappingLog });
  await reconciler.sync();
  assert.equal(reconciler.fullReads, 1);
  other.prepare('UPDATE change_log SET keep = 3').run();
  for (let i = 0; i < 10; i++) store.addMapping({ prefix: { address: 0x0a000000 + i, length: 32 }, msnlAddress: i });
  assert.equal(store.mappingLog.changesSince(0, 100).length, 3, 'the log keeps only `keep` rows');
  const position = store.mappingLog.position();
  assert.equal(position.head, 10);
  assert.equal(position.pruned, 7);
  assert.equal((await reconciler.sync()).kind, 'full');
  assert.equal(reconciler.table.size, 10);
  store.addMapping({ prefix: { address: 0x0b000000, length: 8 }, msnlAddress: 5, lifetimeSeconds: 10 });
  assert.deepEqual(await reconciler.sync(), { kind: 'delta', changes: 1 });
  assert.equal(reconciler.table.lookup(0x0b010203), 5);
  now += 10_001;
  assert.deepEqual(await reconciler.sync(), { kind: 'delta', changes: 1 });
  assert.equal(reconciler.table.lookup(0x0b010203), undefined);
  assert.deepEqual(await reconciler.sync(), { kind: 'none', changes: 0 });
  assert.equal(reconciler.fullReads, 2);
});

test('cancel() stops a whole read at its next slice, and later syncs do nothing (shutdown)', async (t) => {
  const file = tempDb(t);
  const store = openStore(file);
  t.after(() => store.close());
  store.importMappings(Array.from({ length: 3000 }, (_, i) => ({ prefix: { address: (0x0a000000 + i) >>> 0, length: 32 }, msnlAddress: i })));
  let clock = 0;
  const reconciler: Reconciler = new Reconciler({ log: store.mappingLog, pageRows: 100, sliceMs: 1, monotonic: () => (clock += 1), pause: async (): Promise<void> => reconciler.cancel() });
  await assert.rejects(reconciler.sync(), ReconcileCancelled);
  assert.ok(reconciler.table.size < 3000, `stopped early (${reconciler.table.size} of 3000)`);
  store.addMapping({ prefix: { address: 0x0b000000, length: 8 }, msnlAddress: 1 });
  assert.deepEqual(await reconciler.sync(), { kind: 'none', changes: 0 });
});
