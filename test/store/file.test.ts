// Issue 15 items 7-9: the database file's mode, an empty file, and paths that are no file at all.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { openStore } from '../../src/store/store.js';
import { StoreError } from '../../src/store/errors.js';
import { MSNL, MSNLD, run } from '../../src/demo/topology.js';

function tempDir(t: { after: (fn: () => void) => void }): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'msnl-dbfile-'));
  t.after(() => fs.rmSync(dir, { recursive: true, force: true }));
  return dir;
}

const modeOf = (file: string): number => fs.statSync(file).mode & 0o777;

function storeError(fn: () => unknown): StoreError {
  try {
    fn();
  } catch (error) {
    assert.ok(error instanceof StoreError, `expected a StoreError, got ${String(error)}`);
    return error;
  }
  assert.fail('no error');
}

test('a new database and its -wal and -shm files are 0600 whatever the umask', (t) => {
  const file = path.join(tempDir(t), 'sub', 'msnl.db');
  const old = process.umask(0o022);
  try {
    const store = openStore(file);
    store.addMapping({ prefix: { address: 0x0a000000, length: 8 }, msnlAddress: 0x80e80001 });
    for (const f of [file, `${file}-wal`, `${file}-shm`]) assert.equal(modeOf(f).toString(8), '600', f);
    store.close();
  } finally {
    process.umask(old);
  }
});

test('opening an existing database for writing takes away what others may read', (t) => {
  const file = path.join(tempDir(t), 'msnl.db');
  openStore(file).close();
  fs.chmodSync(file, 0o644);
  openStore(file, { readonly: true }).close();
  assert.equal(modeOf(file).toString(8), '644', 'a read-only open changes nothing');
  const store = openStore(file);
  assert.equal(modeOf(file).toString(8), '640');
  store.close();
});

test('an existing empty file is an error, for the store and for msnld, and is left as it is', (t) => {
  const file = path.join(tempDir(t), 'msnl.db');
  fs.writeFileSync(file, '');
  for (const readonly of [false, true]) {
    const error = storeError(() => openStore(file, { readonly }));
    assert.equal(error.kind, 'corrupt');
    assert.equal(error.message, `database ${file} is an empty file, not an msnl database; restore it from a backup, or remove it to start with a new one`);
  }
  assert.equal(fs.statSync(file).size, 0);
  const cli = run([process.execPath, MSNL, '--db', file, 'map', 'add', '10.0.0.0/8', '128.232.0.1']);
  assert.equal(cli.code, 2);
  assert.match(cli.stderr, /is an empty file, not an msnl database/);
  const daemon = run([process.execPath, MSNLD, '--foreground', '--db', file, '--socket', path.join(path.dirname(file), 's.sock')]);
  assert.equal(daemon.code, 2);
  assert.match(daemon.stderr, /failed to open database .*is an empty file, not an msnl database/);
  assert.equal(fs.statSync(file).size, 0);
});

test('paths that are no regular file fail at once: /proc, a directory, a device, a FIFO', (t) => {
  const dir = tempDir(t);
  const fifo = path.join(dir, 'fifo.db');
  execFileSync('mkfifo', [fifo]);
  const cases: Array<[string, RegExp]> = [
    ['/proc/msnl-no-such/y.db', /^database \/proc\/msnl-no-such\/y.db is under \/proc, which cannot hold a database$/],
    ['/proc/self/status', /is under \/proc, which cannot hold a database$/],
    [dir, /is a directory, not a regular file$/],
    ['/dev/null', /is a device, not a regular file$/],
    [fifo, /is a FIFO, not a regular file$/],
  ];
  for (const [file, message] of cases) {
    for (const readonly of [false, true]) assert.match(storeError(() => openStore(file, { readonly })).message, message, file);
  }
  // Whole programs: an error within the run's time bound, where /proc once spun at 100% CPU.
  for (const [file] of cases) {
    const cli = run([process.execPath, MSNL, '--db', file, 'map', 'add', '10.0.0.0/8', '128.232.0.1'], 10_000);
    assert.equal(cli.code, 2, `${file}: ${cli.stderr}`);
    assert.match(cli.stderr, /^Error: /, file);
  }
  const daemon = run([process.execPath, MSNLD, '--foreground', '--db', '/proc/msnl-no-such/y.db', '--socket', path.join(dir, 's.sock')], 10_000);
  assert.equal(daemon.code, 2);
  assert.match(daemon.stderr, /failed to open database \/proc\/msnl-no-such\/y.db: database \/proc\/msnl-no-such\/y.db is under \/proc/);
});

test('a database that fails to open right after being created is removed again', (t) => {
  const dir = tempDir(t);
  const file = path.join(dir, 'msnl.db');
  const schemaDir = path.join(dir, 'schema');
  fs.mkdirSync(schemaDir);
  fs.writeFileSync(path.join(schemaDir, '001_broken.sql'), 'CREATE TABLE nonsense (;');
  assert.throws(() => openStore(file, { schemaDir }), StoreError);
  assert.deepEqual(fs.readdirSync(dir), ['schema']);
});
