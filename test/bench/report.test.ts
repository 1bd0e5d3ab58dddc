import assert from 'node:assert/strict';
import { test } from 'node:test';
import { cellValue, ratio, renderTable, type Column, type Figure } from '../../bench/report.js';

const figures: Figure[] = [
  { key: 'tcp', title: 'TCP', unit: 'Gbit/s', digits: 2 },
  { key: 'rtt', title: 'RTT', unit: 'ms', digits: 3 },
];

test('cellValue is the median of the samples and undefined for failures and absent cells', () => {
  assert.equal(cellValue([1, 9, 2]), 2);
  assert.equal(cellValue('iperf3: refused'), undefined);
  assert.equal(cellValue(undefined), undefined);
  assert.equal(cellValue([]), undefined);
});

test('ratio divides and gives undefined for a missing side or a zero denominator', () => {
  assert.equal(ratio(3, 2), 1.5);
  assert.equal(ratio(undefined, 2), undefined);
  assert.equal(ratio(1, 0), undefined);
});

test('renderTable prints medians per column and the ratios of the named columns', () => {
  const columns: Column[] = [
    { label: 'kernel', values: { tcp: [10, 12], rtt: [0.05] } },
    { label: 'OpenVPN', values: { tcp: [0.8, 0.9, 1.0], rtt: [0.2] } },
    { label: 'msnl', values: { tcp: [0.45], rtt: 'ping: 0 of 100 replies' } },
  ];
  const text = renderTable(figures, columns, [
    { over: 'msnl', under: 'OpenVPN', label: 'msnl/OpenVPN' },
    { over: 'msnl', under: 'kernel', label: 'msnl/kernel' },
  ]);
  const lines = text.split('\n');
  assert.match(lines[0]!, /^figure\s+kernel\s+OpenVPN\s+msnl\s+msnl\/OpenVPN\s+msnl\/kernel$/);
  assert.match(lines[1]!, /^-+( +-+)+$/);
  const tcp = lines.find((l) => l.startsWith('TCP (Gbit/s)'))!.trim().split(/\s+/);
  assert.deepEqual(tcp.slice(2), ['11.00', '0.90', '0.45', '0.50x', '0.041x']);
  const rtt = lines.find((l) => l.startsWith('RTT (ms)'))!.trim().split(/\s+/);
  assert.deepEqual(rtt.slice(2), ['0.050', '0.200', 'fail', '-', '-']);
  assert.ok(lines.includes('failures:'));
  assert.ok(lines.includes('  msnl, RTT: ping: 0 of 100 replies'));
});

test('ratios keep two significant digits when small and one decimal when large', () => {
  const text = renderTable([figures[0]!], [{ label: 'a', values: { tcp: [1] } }, { label: 'b', values: { tcp: [800] } }], [
    { over: 'a', under: 'b', label: 'a/b' },
    { over: 'b', under: 'a', label: 'b/a' },
  ]);
  const cells = text.split('\n')[2]!.trim().split(/\s+/);
  assert.deepEqual(cells.slice(-2), ['0.0013x', '800.0x']);
});

test('renderTable aligns every row to the same width and shows "-" for figures a column lacks', () => {
  const text = renderTable(figures, [{ label: 'a', values: { tcp: [1] } }, { label: 'b', values: {} }], []);
  const lines = text.split('\n');
  assert.equal(new Set(lines.map((l) => l.length)).size, 1);
  assert.match(lines[3]!, /^RTT \(ms\)\s+-\s+-$/);
  assert.ok(!text.includes('failures:'));
});
