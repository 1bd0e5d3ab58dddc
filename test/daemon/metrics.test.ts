// The Prometheus exposition: every daemon counter has a HELP text and a line in msnld(8), the
// text parses strictly, label values are escaped, and the HTTP server answers /metrics only.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { COUNTER_HELP, CONTENT_TYPE, escapeLabel, renderMetrics, type MetricsSnapshot } from '../../src/daemon/metrics.js';
import { MetricsServer } from '../../src/daemon/metrics-server.js';
import { newCounters } from '../../src/msnl/types.js';
import { DROP_CAUSES } from '../../src/tunnel/counters.js';
import { parseExposition, sampleOf } from '../helpers/prometheus.js';
import { Histogram } from '../../src/base/histogram.js';
import { CALL_SETUP_BUCKETS_MS } from '../../src/manager/manager.js';

const snake = (name: string): string => name.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);
const STATUS_COUNTERS = [...Object.keys(newCounters()), 'managerRefusedCalls', 'managerBadMessages', 'undeliverable', 'reconciles'].map(snake);

function snapshot(): MetricsSnapshot {
  return {
    version: '0.1.0',
    uptimeS: 12,
    counters: Object.fromEntries(STATUS_COUNTERS.map((name, i) => [name, i])),
    interfaces: [
      { name: 'ms0', bound: true, connections: 1, rxPackets: 5, rxBytes: 500, txPackets: 6, txBytes: 600, drops: Object.fromEntries(DROP_CAUSES.map((c) => [c, c === 'refused' ? 2 : 0])) },
      { name: 'ms1', bound: false, connections: 0, rxPackets: 0, rxBytes: 0, txPackets: 0, txBytes: 0, drops: Object.fromEntries(DROP_CAUSES.map((c) => [c, 0])) },
    ],
    connections: [{ connection: 42, interface: 'ms0', peer_ip: '10.0.0.2', local_sap: '', remote_sap: '', state: 'up', auth: 'key', age_s: 3, rx_packets: 5, rx_bytes: 500, tx_packets: 6, tx_bytes: 600, initiator: 'local', pmtu: 1500, reason: null }],
    health: [
      { connection: 42, interface: 'ms0', peer_ip: '10.0.0.2', remote_address: '128.232.0.2', state: 'up', auth: 'key', tx_proven: true, rx_proven: true, rtt_ms: 1.5, loss: 0, pmtu: 1500, last_heard_s: 0.2, reason: null, failed_s: null, exits: null },
      { connection: 0, interface: 'ms0', peer_ip: '10.0.0.3', remote_address: '0.0.0.0', state: 'down', auth: 'none', tx_proven: false, rx_proven: false, rtt_ms: null, loss: 1, pmtu: null, last_heard_s: null, reason: 'timeout', failed_s: 2, exits: null },
    ],
    callSetup: (() => {
      const h = new Histogram(CALL_SETUP_BUCKETS_MS);
      for (const ms of [0.8, 3, 3, 4000, 9000]) h.observe(ms);
      return { bounds: h.bounds.map((ms) => ms / 1000), cumulative: h.cumulative(), sum: h.sum / 1000, count: h.count };
    })(),
  };
}

test('every status counter has its own HELP text and is documented in msnld(8) METRICS', () => {
  const page = readFileSync(path.resolve(__dirname, '..', '..', '..', 'man', 'msnld.8'), 'utf8');
  assert.deepEqual(Object.keys(COUNTER_HELP).sort(), [...STATUS_COUNTERS].sort());
  const families = parseExposition(renderMetrics(snapshot()));
  for (const name of families.keys()) assert.ok(page.includes(name), `msnld(8) documents ${name}`);
});

test('the exposition parses strictly and carries the snapshot', () => {
  const families = parseExposition(renderMetrics(snapshot()));
  assert.equal(families.get('msnl_datagrams_in_total')?.type, 'counter');
  assert.equal(families.get('msnl_datagrams_in_total')?.help, 'Underlay UDP datagrams received.');
  assert.equal(sampleOf(families, 'msnl_reconciles_total'), STATUS_COUNTERS.indexOf('reconciles'));
  assert.equal(sampleOf(families, 'msnl_interface_tx_bytes_total', { interface: 'ms0' }), 600);
  assert.equal(sampleOf(families, 'msnl_interface_drops_total', { interface: 'ms0', cause: 'refused' }), 2);
  assert.equal(families.get('msnl_interface_drops_total')?.samples.length, 2 * DROP_CAUSES.length);
  assert.equal(sampleOf(families, 'msnl_interface_bound', { interface: 'ms1' }), 0);
  assert.equal(sampleOf(families, 'msnl_connection_rx_packets_total', { connection: '42', peer_ip: '10.0.0.2' }), 5);
  assert.equal(sampleOf(families, 'msnl_tunnel_state', { peer_ip: '10.0.0.2', state: 'up' }), 1);
  assert.equal(sampleOf(families, 'msnl_tunnel_state', { peer_ip: '10.0.0.2', state: 'half' }), 0);
  assert.equal(sampleOf(families, 'msnl_tunnel_state', { peer_ip: '10.0.0.3', state: 'down' }), 1);
  assert.equal(sampleOf(families, 'msnl_tunnel_rtt_seconds', { peer_ip: '10.0.0.2' }), 0.0015);
  assert.ok(Number.isNaN(sampleOf(families, 'msnl_tunnel_rtt_seconds', { peer_ip: '10.0.0.3' })));
  assert.equal(sampleOf(families, 'msnl_build_info', { version: '0.1.0' }), 1);
  for (const family of families.values()) assert.ok(family.help.length > 5 && family.type !== '', 'HELP and TYPE');
  const setup = families.get('msnl_call_setup_seconds');
  assert.equal(setup?.type, 'histogram');
  const bucket = (le: string): number | undefined => setup?.samples.find((x) => x.name === 'msnl_call_setup_seconds_bucket' && x.labels.le === le)?.value;
  assert.deepEqual([bucket('0.001'), bucket('0.005'), bucket('5'), bucket('+Inf')], [1, 3, 4, 5], 'cumulative buckets');
  assert.equal(setup?.samples.find((x) => x.name === 'msnl_call_setup_seconds_count')?.value, 5);
  assert.ok(Math.abs((setup?.samples.find((x) => x.name === 'msnl_call_setup_seconds_sum')?.value ?? 0) - 13.0068) < 1e-9);
});

test('label values are escaped', () => {
  assert.equal(escapeLabel('a\\b"c\nd'), 'a\\\\b\\"c\\nd');
  const s = snapshot();
  const odd = { ...s, version: 'x"y\\z\nw' };
  assert.equal(parseExposition(renderMetrics(odd)).get('msnl_build_info')?.samples[0]?.labels.version, 'x"y\\z\nw');
});

test('the metrics server: GET /metrics is the exposition, other paths 404, other methods 405, a taken port is an error', async (t) => {
  const server = new MetricsServer(snapshot);
  const { port } = await server.listen('127.0.0.1', 0);
  t.after(() => server.close());
  const base = `http://127.0.0.1:${port}`;
  const ok = await fetch(`${base}/metrics`);
  assert.equal(ok.status, 200);
  assert.equal(ok.headers.get('content-type'), CONTENT_TYPE);
  assert.ok(parseExposition(await ok.text()).has('msnl_uptime_seconds'));
  assert.equal((await fetch(`${base}/`)).status, 404);
  assert.equal((await fetch(`${base}/metrics`, { method: 'POST', body: 'x' })).status, 405);
  const second = new MetricsServer(snapshot);
  await assert.rejects(second.listen('127.0.0.1', port), /EADDRINUSE/);
});
