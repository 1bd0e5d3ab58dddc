import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseIpv4Prefix, prefixContains, prefixMask, type Ipv4Prefix } from '../../src/abi/inet.js';
import { PrefixTable, type PrefixEntry } from '../../src/manager/prefix-table.js';
import { seededRandom } from '../../src/base/random.js';

/** Deterministic, so a failure reproduces from the seed. */
function rng(seed: number): () => number {
  const random = seededRandom(seed);
  return () => random.u32();
}

function p(text: string): Ipv4Prefix {
  const prefix = parseIpv4Prefix(text);
  if (!('address' in prefix)) throw new Error(prefix.message);
  return prefix;
}

/** The reference: scan every entry, keep the longest match, later entries win ties. */
function bruteForce<T>(entries: readonly PrefixEntry<T>[], address: number): PrefixEntry<T> | undefined {
  let best: PrefixEntry<T> | undefined;
  for (const entry of entries) {
    if (!prefixContains(entry.prefix, address)) continue;
    if (best === undefined || entry.prefix.length >= best.prefix.length) best = entry;
  }
  return best;
}

test('an empty table matches nothing', () => {
  const table = PrefixTable.empty<string>();
  assert.equal(table.size, 0);
  for (const a of [0, 1, 0x0a000001, 0xffffffff]) {
    assert.equal(table.lookup(a), undefined);
    assert.equal(table.lookupEntry(a), undefined);
    assert.equal(table.lookupIndex(a), -1);
  }
});

test('hand-picked nesting: /0 default, /8, /16, /24, /32 and the edges of the address space', () => {
  const table = PrefixTable.build([
    { prefix: p('0.0.0.0/0'), value: 'default' },
    { prefix: p('10.0.0.0/8'), value: 'ten' },
    { prefix: p('10.9.0.0/16'), value: 'ten-nine' },
    { prefix: p('10.9.3.0/24'), value: 'ten-nine-three' },
    { prefix: p('10.9.3.7'), value: 'host' },
    { prefix: p('255.255.255.255/32'), value: 'top' },
    { prefix: p('0.0.0.0/32'), value: 'bottom' },
  ]);
  assert.equal(table.size, 7);
  const cases: Array<[string, string]> = [
    ['10.9.3.7', 'host'],
    ['10.9.3.6', 'ten-nine-three'],
    ['10.9.3.8', 'ten-nine-three'],
    ['10.9.4.0', 'ten-nine'],
    ['10.9.255.255', 'ten-nine'],
    ['10.10.0.0', 'ten'],
    ['10.255.255.255', 'ten'],
    ['11.0.0.0', 'default'],
    ['9.255.255.255', 'default'],
    ['255.255.255.255', 'top'],
    ['255.255.255.254', 'default'],
    ['0.0.0.0', 'bottom'],
    ['0.0.0.1', 'default'],
  ];
  for (const [address, value] of cases) assert.equal(table.lookup(p(address).address), value, address);
  const hit = table.lookupEntry(p('10.9.200.1').address);
  assert.deepEqual(hit?.prefix, p('10.9.0.0/16'));
});

test('without a default, unmatched addresses give undefined; duplicates keep the later entry', () => {
  const table = PrefixTable.build([
    { prefix: p('192.0.2.0/24'), value: 1 },
    { prefix: p('192.0.2.0/24'), value: 2 },
    { prefix: p('198.51.100.128/25'), value: 3 },
  ]);
  assert.equal(table.size, 2);
  assert.equal(table.lookup(p('192.0.2.99').address), 2);
  assert.equal(table.lookup(p('192.0.3.0').address), undefined);
  assert.equal(table.lookup(p('198.51.100.127').address), undefined);
  assert.equal(table.lookup(p('198.51.100.128').address), 3);
  assert.equal(table.lookup(p('198.51.100.255').address), 3);
  // Signed inputs (a JS int32 from bitwise code) mean the same address.
  assert.equal(table.lookup(p('198.51.100.200').address | 0), 3);
});

test('malformed prefixes are refused at build time', () => {
  assert.throws(() => PrefixTable.build([{ prefix: { address: 0x0a000001, length: 8 }, value: 0 }]), RangeError);
  assert.throws(() => PrefixTable.build([{ prefix: { address: 0, length: 33 }, value: 0 }]), RangeError);
  assert.throws(() => PrefixTable.build([{ prefix: { address: -1, length: 32 }, value: 0 }]), RangeError);
});

test('matches a brute-force reference on random nested sets', () => {
  const next = rng(20240601);
  for (let round = 0; round < 30; round++) {
    const entries: PrefixEntry<number>[] = [];
    const count = 1 + (next() % 300);
    // A few base prefixes, then nested ones under them, so nesting is deep and frequent.
    const bases: Ipv4Prefix[] = [];
    for (let i = 0; i < count; i++) {
      let prefix: Ipv4Prefix;
      const parent = bases.length > 0 && next() % 3 !== 0 ? bases[next() % bases.length]! : undefined;
      if (parent !== undefined) {
        const length = parent.length + (next() % (33 - parent.length));
        const address = ((parent.address | (next() & ~prefixMask(parent.length))) & prefixMask(length)) >>> 0;
        prefix = { address, length };
      } else {
        const length = round % 5 === 0 && i === 0 ? 0 : next() % 33;
        prefix = { address: (next() & prefixMask(length)) >>> 0, length };
      }
      bases.push(prefix);
      entries.push({ prefix, value: i });
    }
    const table = PrefixTable.build(entries);
    const probes: number[] = [];
    for (const { prefix } of entries) {
      const last = (prefix.address + 2 ** (32 - prefix.length) - 1) >>> 0;
      probes.push(prefix.address, last, (prefix.address - 1) >>> 0, (last + 1) >>> 0);
    }
    for (let i = 0; i < 400; i++) probes.push(next());
    for (const address of probes) {
      const expected = bruteForce(entries, address);
      const got = table.lookupEntry(address);
      assert.equal(got?.value, expected?.value, `round ${round} address ${address}`);
      assert.equal(table.lookup(address), expected?.value);
    }
  }
});

test('dense single /16: 4096 host routes in one index bucket', () => {
  const entries: PrefixEntry<number>[] = [];
  for (let i = 0; i < 4096; i += 2) entries.push({ prefix: { address: 0x0a090000 + i * 7, length: 32 }, value: i });
  entries.push({ prefix: p('10.9.0.0/16'), value: -1 });
  const table = PrefixTable.build(entries);
  for (let a = 0x0a090000; a < 0x0a090000 + 4096 * 7 + 10; a++) {
    const offset = a - 0x0a090000;
    const expected = offset % 7 === 0 && (offset / 7) % 2 === 0 && offset / 7 < 4096 ? offset / 7 : -1;
    assert.equal(table.lookup(a), expected);
  }
});
