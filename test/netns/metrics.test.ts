// Root-only: `msnld --metrics` scraped during a ping through ms0 between two hosts: the
// exposition parses, the interface and connection counters rise, and the tunnel shows up.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Topology } from '../../src/demo/topology.js';
import { requireRoot } from '../helpers/root.js';
import { parseExposition, sampleOf, type Family } from '../helpers/prometheus.js';
import { configure, pingAtMtu } from './network.js';

test('msnld --metrics: a scrape parses, and a ping through ms0 raises the counters and shows the tunnel up', async (t) => {
  if (!requireRoot(t)) return;
  const net = Topology.create({ tag: 'metrics', hosts: 2 });
  try {
    configure(net);
    const h1 = net.host(1);
    const h2 = net.host(2);
    await net.startDaemon(h1, ['--metrics', '127.0.0.1:9464']);
    await net.startDaemon(h2);
    const scrape = async (): Promise<Map<string, Family>> => {
      const r = await net.execAsync(h1, [process.execPath, '-e', "fetch('http://127.0.0.1:9464/metrics').then(async (r) => process.stdout.write(r.headers.get('content-type') + '\\n' + (await r.text())))"]);
      assert.equal(r.code, 0, r.stderr);
      const [type, ...body] = r.stdout.split('\n');
      assert.equal(type, 'text/plain; version=0.0.4; charset=utf-8');
      return parseExposition(body.join('\n'));
    };
    const before = await scrape();
    assert.equal(sampleOf(before, 'msnl_interface_tx_packets_total', { interface: 'ms0' }), 0);
    assert.equal(sampleOf(before, 'msnl_interface_bound', { interface: 'ms0' }), 1);
    const ping = await pingAtMtu(net, h1, h2, 0, 3);
    assert.ok(ping.ok, ping.output);
    let after = await scrape();
    for (let i = 0; i < 50 && sampleOf(after, 'msnl_tunnel_state', { interface: 'ms0', peer_ip: '10.0.0.2', state: 'up' }) !== 1; i++) {
      await new Promise((resolve) => setTimeout(resolve, 200));
      after = await scrape();
    }
    assert.equal(sampleOf(after, 'msnl_tunnel_state', { interface: 'ms0', peer_ip: '10.0.0.2', state: 'up' }), 1);
    assert.ok((sampleOf(after, 'msnl_interface_tx_packets_total', { interface: 'ms0' }) ?? 0) >= 3, 'three echo requests out');
    assert.ok((sampleOf(after, 'msnl_interface_rx_packets_total', { interface: 'ms0' }) ?? 0) >= 3, 'three echo replies in');
    assert.ok((sampleOf(after, 'msnl_datagrams_out_total') ?? 0) > (sampleOf(before, 'msnl_datagrams_out_total') ?? 0));
    assert.ok((sampleOf(after, 'msnl_connection_tx_packets_total', { interface: 'ms0', peer_ip: '10.0.0.2' }) ?? 0) >= 3);
    assert.ok((sampleOf(after, 'msnl_requests_sent_total') ?? 0) >= 1, 'the call was counted');
    const setup = after.get('msnl_call_setup_seconds')?.samples ?? [];
    const count = setup.find((x) => x.name === 'msnl_call_setup_seconds_count')?.value ?? 0;
    const sum = setup.find((x) => x.name === 'msnl_call_setup_seconds_sum')?.value ?? -1;
    assert.equal(count, 1, 'h1 made one call and its set-up time was observed');
    assert.ok(sum >= 0 && sum < 5, `call set-up took ${sum} s`);
  } finally {
    await net.destroy();
  }
});
