import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Connection } from '../../src/msnl/connection.js';
import { ConnectionTable } from '../../src/msnl/connection-table.js';
import { PathMtu } from '../../src/msnl/pmtu.js';

function conn(id: number, remoteId: number, link: string): Connection<string> {
  return new Connection(id, remoteId, 'originator', { address: 1, port: 1 }, { address: 2, port: 2 }, 0, 0, link, 0, 0, new PathMtu(1472, 0, true, 0));
}

test('ConnectionTable finds connections by local id and by the peer\'s id, and keeps their deadlines', () => {
  const table = new ConnectionTable<string>();
  const a = conn(1, 100, 'peer-a');
  const b = conn(2, 100, 'peer-b'); // another peer picked the same id
  const c = conn(3, 300, 'peer-a');
  table.add(a, 10);
  table.add(b, 5);
  table.add(c, 7);
  assert.equal(table.size, 3);
  assert.equal(table.get(2), b);
  assert.equal(table.byRemoteId(100, (x) => x.link === 'peer-a'), a);
  assert.equal(table.byRemoteId(100, (x) => x.link === 'peer-b'), b);
  assert.equal(table.byRemoteId(100, (x) => x.link === 'peer-c'), undefined);
  assert.equal(table.byRemoteId(300, () => true), c);
  assert.equal(table.byRemoteId(999, () => true), undefined);
  assert.equal(table.deadlines.peekAt(), 5);
  assert.equal(table.delete(b), true);
  assert.equal(table.delete(b), false, 'only once');
  assert.equal(table.byRemoteId(100, (x) => x.link === 'peer-b'), undefined);
  assert.equal(table.byRemoteId(100, () => true), a);
  assert.equal(table.deadlines.peekAt(), 7, 'a closed connection has no deadline');
  table.delete(a);
  assert.equal(table.byRemoteId(100, () => true), undefined);
  assert.deepEqual([...table.values()], [c]);
});

test('ConnectionTable reserves ids for calls being set up, never 0 nor one in use', () => {
  const table = new ConnectionTable<string>();
  table.add(conn(5, 1, 'x'), 0);
  const draws = [0, 5, 7, 7, 8];
  const next = (): number => draws.shift() ?? 9;
  assert.equal(table.allocate(next), 7);
  assert.equal(table.isReserved(7), true);
  assert.equal(table.allocate(next), 8, 'a reserved id is not handed out twice');
  table.release(8);
  assert.equal(table.isReserved(8), false);
  table.add(conn(7, 2, 'y'), 0);
  assert.equal(table.isReserved(7), false, 'an open connection is no longer reserved');
});
