// Conflict resolution and the view one host applies: the same on every host, whatever the order.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { diffViews, isEmptyDiff, resolveFleet, EMPTY_VIEW, type FleetHost } from '../../src/fleet/resolve.js';
import { FleetState } from '../../src/fleet/state.js';
import { encodeRecord, recordKey } from '../../src/fleet/record.js';
import type { Logger } from '../../src/base/logger.js';

const P = (a: number): { address: number; length: number } => ({ address: 0x0a000000 + a, length: 32 });
function host(n: number, createRevision: number, prefixes: number[]): FleetHost {
  return { record: { msnlAddress: 0x80e80000 + n, endpoints: [{ host: `192.0.2.${n}`, port: 7010 }], publicKey: null, prefixes: prefixes.map(P) }, lease: String(n), createRevision, modRevision: createRevision };
}

test('the older claim wins a contested prefix, on every host and in any order', () => {
  const hosts = [host(1, 10, [1, 9]), host(2, 5, [2, 9]), host(3, 20, [3, 9])];
  const views = [1, 2, 3].map((self) => resolveFleet(self % 2 === 0 ? [...hosts].reverse() : hosts, 0x80e80000 + self));
  for (const view of views) {
    assert.deepEqual(view.conflicts, [{ prefix: P(9), winner: 0x80e80002, losers: [0x80e80001, 0x80e80003] }]);
  }
  // Host 1 maps the contested prefix to host 2; host 2 maps none for it (it is its own).
  assert.equal(views[0]!.mappings.get('10.0.0.9/32')?.msnlAddress, 0x80e80002);
  assert.match(views[0]!.mappings.get('10.0.0.9/32')!.comment, /conflict: also claimed by 128\.232\.0\.1, 128\.232\.0\.3/);
  assert.equal(views[1]!.mappings.has('10.0.0.9/32'), false);
  assert.equal(views[1]!.mappings.has('10.0.0.2/32'), false, 'no mapping for its own prefix');
  assert.deepEqual([...views[1]!.routes.keys()].sort(), [0x80e80001, 0x80e80003], 'routes to the others, not to itself');
  // Equal revisions (cached records meeting): the lower MSNL address wins.
  const tie = resolveFleet([host(4, 7, [9]), host(3, 7, [9])], 0);
  assert.equal(tie.conflicts[0]?.winner, 0x80e80003);
});

test('the diff between two views names only what changed', () => {
  const a = resolveFleet([host(1, 1, [1]), host(2, 2, [2])], 0);
  const b = resolveFleet([host(1, 1, [1, 5]), host(3, 3, [3])], 0);
  const d = diffViews(a, b);
  assert.deepEqual(d.putMappings.map((m) => m.prefix), [P(5), P(3)]);
  assert.deepEqual(d.delMappings, [P(2)]);
  assert.deepEqual(d.putRoutes.map((r) => r.msnlAddress), [0x80e80003]);
  assert.deepEqual(d.delRoutes, [0x80e80002]);
  assert.ok(isEmptyDiff(diffViews(b, b)));
  assert.equal(diffViews(EMPTY_VIEW, a).putMappings.length, 2);
});

test('the state applies watch events, skips (and logs) bad records, and removes a host whose record turns bad', () => {
  const warnings: string[] = [];
  const log: Logger = { error: () => undefined, warn: (m) => warnings.push(m), info: () => undefined, debug: () => undefined, verbose: () => undefined };
  const state = new FleetState(0x80e80009, log);
  const kv = (h: FleetHost, value = encodeRecord(h.record)) => ({ key: recordKey(h.record.msnlAddress), value, createRevision: h.createRevision, modRevision: h.modRevision, lease: h.lease });
  const h1 = host(1, 3, [1]);
  let batch = state.relist([kv(h1), { key: '/msnl/v1/hosts/junk', value: '{}', createRevision: 4, modRevision: 4, lease: '0' }], 4);
  assert.equal(batch.replaceHosts, true);
  assert.deepEqual(batch.putMappings.map((m) => m.msnlAddress), [0x80e80001]);
  assert.equal(state.skipped, 1);
  assert.match(warnings[0]!, /skipped the record at "\/msnl\/v1\/hosts\/junk"/);
  batch = state.applyEvents([{ type: 'put', kv: kv(h1, 'garbage') }], 5);
  assert.deepEqual(batch.delHosts, [0x80e80001]);
  assert.deepEqual(batch.delMappings, [P(1)]);
  assert.equal(batch.revision, 5);
  batch = state.applyEvents([{ type: 'put', kv: kv(host(2, 6, [2])) }, { type: 'delete', kv: { key: recordKey(0x80e80002), value: '', createRevision: 0, modRevision: 7, lease: '0' } }], 7);
  assert.deepEqual(batch.putMappings, []);
  assert.equal(state.hosts.size, 0);
});

test('the incremental state ends where a full resolution of the same records does', () => {
  const quiet: Logger = { error: () => undefined, warn: () => undefined, info: () => undefined, debug: () => undefined, verbose: () => undefined };
  const self = 0x80e80003;
  const state = new FleetState(self, quiet);
  const live = new Map<number, FleetHost>();
  let seed = 7;
  const rand = (n: number): number => (seed = (seed * 1103515245 + 12345) % 2 ** 31) % n;
  // Applied batch by batch, the writes must also rebuild the same tables from empty.
  const mappings = new Map<string, number>();
  const routes = new Set<number>();
  for (let revision = 1; revision <= 400; revision++) {
    const n = rand(8) + 1;
    const h = host(n, revision, Array.from({ length: rand(4) }, () => rand(12)));
    const kv = { key: recordKey(h.record.msnlAddress), value: encodeRecord(h.record), createRevision: live.get(n)?.createRevision ?? revision, modRevision: revision, lease: h.lease };
    const remove = rand(4) === 0;
    const batch = state.applyEvents([{ type: remove ? 'delete' : 'put', kv }], revision);
    if (remove) live.delete(0x80e80000 + n);
    else live.set(0x80e80000 + n, { ...h, createRevision: kv.createRevision });
    for (const p of batch.delMappings) mappings.delete(`${p.address}/${p.length}`);
    for (const m of batch.putMappings) mappings.set(`${m.prefix.address}/${m.prefix.length}`, m.msnlAddress);
    for (const a of batch.delRoutes) routes.delete(a);
    for (const r of batch.putRoutes) routes.add(r.msnlAddress);
  }
  const full = resolveFleet(live.values(), self);
  assert.ok(isEmptyDiff(diffViews(full, state.view)), 'same view');
  assert.deepEqual(state.view.conflicts, full.conflicts);
  assert.deepEqual(new Map([...full.mappings.values()].map((m) => [`${m.prefix.address}/${m.prefix.length}`, m.msnlAddress])), mappings);
  assert.deepEqual(new Set(full.routes.keys()), routes);
});
