import assert from 'node:assert/strict';
import { test } from 'node:test';
import { mappingCsv } from '../../bench/control.js';
import { parseMappingFile } from '../../src/cli/mapfile.js';
import { caller } from '../../bench/swarm.js';

test('the swarm callers have distinct MSNL addresses and IPs', () => {
  const seen = new Set<string>();
  for (let i = 1; i <= 1000; i++) {
    const c = caller(i);
    seen.add(c.msnl).add(c.ip);
  }
  assert.equal(seen.size, 2000);
  assert.deepEqual(caller(258), { msnl: '128.233.1.2', ip: '10.9.1.2' });
});

test('mappingCsv makes the requested rows, the callers first, all distinct and importable', () => {
  const text = mappingCsv(5000, 300);
  const rows = parseMappingFile(text);
  assert.equal(rows.length, 5000);
  const prefixes = new Set(rows.map((r) => `${r.prefix.address}/${r.prefix.length}`));
  assert.equal(prefixes.size, 5000);
  assert.equal(text.split('\n')[1], '10.9.0.1/32,128.233.0.1,swarm');
  assert.equal(text.split('\n').filter((l) => l.endsWith(',swarm')).length, 300);
});
