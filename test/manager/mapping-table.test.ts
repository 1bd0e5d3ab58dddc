import { test } from 'node:test';
import assert from 'node:assert/strict';
import { prefixMask } from '../../src/abi/inet.js';
import { MappingTable } from '../../src/manager/mapping-table.js';
import { PrefixTable } from '../../src/manager/prefix-table.js';
import { seededRandom } from '../../src/base/random.js';

function randomPrefix(next: () => number): { network: number; length: number } {
  // Mostly long prefixes in a small space, so edits collide, nest and reuse slots.
  const lengths = [0, 8, 16, 20, 24, 28, 30, 31, 32, 32, 32, 32];
  const length = lengths[next() % lengths.length]!;
  const address = (0x0a000000 | (next() & 0x3ff)) >>> 0;
  return { network: (address & prefixMask(length)) >>> 0, length };
}

test('an empty table finds nothing, and bad prefixes are refused', () => {
  const table = new MappingTable();
  assert.equal(table.size, 0);
  assert.equal(table.lookup(0x0a000001), undefined);
  assert.equal(table.delete(0x0a000000, 8), false);
  assert.throws(() => table.set(0x0a000001, 8, 1), RangeError);
  assert.throws(() => table.set(0, 33, 1), RangeError);
});

test('longest prefix wins; replace and delete change only their own entry', () => {
  const table = new MappingTable();
  table.set(0, 0, 1);
  table.set(0x0a000000, 8, 2);
  table.set(0x0a010000, 16, 3);
  table.set(0x0a010203, 32, 4);
  assert.equal(table.lookup(0x0b000000), 1);
  assert.equal(table.lookup(0x0a020000), 2);
  assert.equal(table.lookup(0x0a010204), 3);
  assert.equal(table.lookup(0x0a010203), 4);
  table.set(0x0a010000, 16, 30);
  assert.equal(table.lookup(0x0a010204), 30);
  assert.equal(table.size, 4);
  assert.equal(table.delete(0x0a010203, 32), true);
  assert.equal(table.lookup(0x0a010203), 30);
  assert.equal(table.get(0x0a000000, 8), 2);
  assert.equal(table.size, 3);
});

test('random edits agree with a PrefixTable built from scratch (lookups and entries)', () => {
  const random = seededRandom(21);
  const next = (): number => random.u32();
  const table = new MappingTable();
  const reference = new Map<string, { network: number; length: number; value: number }>();
  for (let round = 0; round < 40; round++) {
    for (let i = 0; i < 300; i++) {
      const { network, length } = randomPrefix(next);
      const key = `${network}/${length}`;
      if (next() % 3 === 0) {
        assert.equal(table.delete(network, length), reference.delete(key));
      } else {
        const value = next();
        table.set(network, length, value);
        reference.set(key, { network, length, value });
      }
    }
    assert.equal(table.size, reference.size);
    const built = PrefixTable.build([...reference.values()].map((e) => ({ prefix: { address: e.network, length: e.length }, value: e.value })));
    for (let probe = 0; probe < 500; probe++) {
      const address = (0x0a000000 | (next() & 0x7ff)) >>> 0;
      assert.equal(table.lookup(address), built.lookup(address), `round ${round} address ${address.toString(16)}`);
    }
    const mine = [...table.entries()].map((e) => `${e.network}/${e.length}=${e.value}`).sort();
    const theirs = [...reference.values()].map((e) => `${e.network}/${e.length}=${e.value}`).sort();
    assert.deepEqual(mine, theirs);
  }
});

test('mark and sweep lists exactly the entries not set during marking; tables grow and shrink', () => {
  const table = new MappingTable();
  for (let i = 0; i < 5000; i++) table.set((0x0a000000 + i) >>> 0, 32, i);
  const grown = table.byteLength;
  table.startMarking();
  for (let i = 0; i < 5000; i += 2) table.set((0x0a000000 + i) >>> 0, 32, i + 1);
  table.stopMarking();
  const unmarked = { networks: [] as number[], lengths: [] as number[] };
  for (let from = 0; from < table.slots; from += 1000) table.collectUnmarked(from, from + 1000, unmarked);
  assert.equal(unmarked.networks.length, 2500);
  for (let k = 0; k < unmarked.networks.length; k++) {
    assert.equal((unmarked.networks[k]! - 0x0a000000) % 2, 1);
    assert.equal(table.delete(unmarked.networks[k]!, unmarked.lengths[k]!), true);
  }
  assert.equal(table.size, 2500);
  assert.equal(table.lookup(0x0a000002), 3);
  assert.equal(table.lookup(0x0a000003), undefined);
  for (let i = 0; i < 5000; i += 2) table.delete((0x0a000000 + i) >>> 0, 32);
  assert.equal(table.size, 0);
  assert.ok(table.byteLength < grown / 8, `shrank: ${table.byteLength} of ${grown}`);
});

test('one million /32 entries fit in about 20 MiB of typed arrays', () => {
  const table = new MappingTable();
  table.reserve(1_000_000);
  for (let i = 0; i < 1_000_000; i++) table.set((0x0a000000 + i) >>> 0, 32, i);
  assert.equal(table.size, 1_000_000);
  assert.ok(table.byteLength <= 21 * 1024 * 1024, `${table.byteLength} octets`);
  assert.equal(table.lookup(0x0a000000 + 123_456), 123_456);
});
