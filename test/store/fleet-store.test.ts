// The fleet tables: one batch is one transaction, local rows win over cluster rows both ways.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { openStore } from '../../src/store/store.js';

test('a fleet batch writes cluster rows, never over local ones, and a local add replaces a cluster row', (t) => {
  const dir = mkdtempSync(path.join(tmpdir(), 'msnl-fleet-store-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const store = openStore(path.join(dir, 'f.db'));
  try {
    const fleet = store.fleet();
    assert.deepEqual(fleet.settings(), { urls: '', ttlS: 30, endpoint: '' });
    fleet.setSettings({ urls: 'http://192.0.2.4:2379', ttlS: 5 });
    assert.equal(fleet.settings().ttlS, 5);
    store.addMapping({ prefix: { address: 0x0a000005, length: 32 }, msnlAddress: 9 });
    const token = store.changeToken();
    fleet.apply({
      revision: 12,
      putHosts: [{ msnlAddress: 2, record: '{}', lease: '77', createRevision: 3, modRevision: 4 }],
      delHosts: [],
      putMappings: [{ prefix: { address: 0x0a000002, length: 32 }, msnlAddress: 2, comment: 'fleet host 0.0.0.2' }, { prefix: { address: 0x0a000005, length: 32 }, msnlAddress: 2, comment: 'x' }],
      delMappings: [],
      putRoutes: [{ msnlAddress: 2, host: '192.0.2.2', port: 7010, publicKey: null }],
      delRoutes: [],
    });
    assert.notEqual(store.changeToken(), token, 'the daemon sees the change');
    assert.equal(fleet.revision(), 12);
    assert.equal(fleet.hosts()[0]?.lease, '77');
    assert.deepEqual(store.listMappings().map((m) => [m.prefix.address, m.msnlAddress, m.origin]), [[0x0a000002, 2, 'cluster'], [0x0a000005, 9, 'cli']]);
    assert.equal(store.listRoutes()[0]?.origin, 'cluster');
    // A local route and mapping replace the cluster ones for the same prefix.
    store.addRoute({ prefix: { address: 2, length: 32 }, host: '192.0.2.99', port: 1, publicKey: null });
    store.addMapping({ prefix: { address: 0x0a000002, length: 32 }, msnlAddress: 8 });
    assert.equal(store.listRoutes()[0]?.host, '192.0.2.99');
    assert.equal(store.getMapping({ address: 0x0a000002, length: 32 })?.origin, 'cli');
    // Removing the host's rows leaves the local ones alone.
    fleet.apply({ revision: 13, putHosts: [], delHosts: [2], putMappings: [], delMappings: [{ address: 0x0a000002, length: 32 }], putRoutes: [], delRoutes: [2] });
    assert.equal(store.listMappings().length, 2);
    assert.equal(store.listRoutes().length, 1);
    assert.equal(fleet.hosts().length, 0);
    // publish marks a local mapping for this host's record.
    fleet.setPublish({ address: 0x0a000005, length: 32 }, true);
    assert.deepEqual(fleet.publishedPrefixes(), [{ address: 0x0a000005, length: 32 }]);
    assert.throws(() => fleet.setPublish({ address: 0x0b000000, length: 8 }, true), /no local mapping/);
  } finally {
    store.close();
  }
});
