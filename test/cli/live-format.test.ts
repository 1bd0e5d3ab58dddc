// The pure text helpers of the live commands, on literal values.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { allUp, CHECK_FAILED_WINDOW_S, healthText } from '../../src/cli/health.js';
import { connectionText } from '../../src/cli/conn.js';
import { formatSummary, summarize } from '../../src/cli/ping.js';
import { formatDuration, statusText } from '../../src/cli/status.js';
import { SAMPLE_CONNECTION, SAMPLE_HEALTH, SAMPLE_STATUS } from '../control/fake-handler.js';

test('formatDuration drops leading zero units and keeps inner ones', () => {
  assert.equal(formatDuration(0), '0s');
  assert.equal(formatDuration(59.9), '59s');
  assert.equal(formatDuration(60), '1m0s');
  assert.equal(formatDuration(3725), '1h2m5s');
  assert.equal(formatDuration(86400), '1d0h0m0s');
  assert.equal(formatDuration(-5), '0s');
});

test('summarize: ping(8) statistics, mdev as the standard deviation, no RTTs when nothing came back', () => {
  const s = summarize([{ seq: 1, rtt_ms: 1, bytes: 64 }, { seq: 2, rtt_ms: null, bytes: 64 }, { seq: 3, rtt_ms: 3, bytes: 64 }, { seq: 4, rtt_ms: 2, bytes: 64 }]);
  assert.deepEqual({ ...s, rtt_mdev_ms: Number(s.rtt_mdev_ms?.toFixed(6)) }, {
    transmitted: 4, received: 3, loss: 0.25, rtt_min_ms: 1, rtt_avg_ms: 2, rtt_max_ms: 3, rtt_mdev_ms: 0.816497,
  });
  const none = summarize([{ seq: 1, rtt_ms: null, bytes: 64 }]);
  assert.deepEqual([none.received, none.loss, none.rtt_avg_ms], [0, 1, null]);
  assert.equal(formatSummary('10.0.0.1', none), '\n--- 10.0.0.1 msnl ping statistics ---\n1 packets transmitted, 0 received, 100% packet loss\n');
  assert.deepEqual(summarize([]), { transmitted: 0, received: 0, loss: 0, rtt_min_ms: null, rtt_avg_ms: null, rtt_max_ms: null, rtt_mdev_ms: null });
});

test('health: every tunnel up, vacuously for none; text for unmeasured fields', () => {
  assert.equal(allUp([]), true);
  assert.equal(allUp([SAMPLE_HEALTH, { ...SAMPLE_HEALTH, state: 'down' }]), false);
  assert.equal(
    healthText({ ...SAMPLE_HEALTH, state: 'down', tx_proven: false, rx_proven: false, rtt_ms: null, last_heard_s: null, loss: 1, pmtu: null }),
    '7: ms0 peer 10.77.0.2 remote 128.232.65.43 state down auth key tx unproven rx unproven rtt - loss 100% heard never',
  );
});

test('health: a failed call shows its reason and age; it fails the check for CHECK_FAILED_WINDOW_S seconds', () => {
  const failed = { ...SAMPLE_HEALTH, connection: 0, state: 'down' as const, tx_proven: false, rx_proven: false, rtt_ms: null, last_heard_s: null, loss: 1, pmtu: null, reason: 'timeout', failed_s: 3.25 };
  assert.equal(
    healthText(failed),
    '0: ms0 peer 10.77.0.2 remote 128.232.65.43 state down auth key tx unproven rx unproven rtt - loss 100% heard never reason timeout failed 3.3s ago',
  );
  assert.equal(CHECK_FAILED_WINDOW_S, 300);
  assert.equal(allUp([SAMPLE_HEALTH, failed]), false);
  assert.equal(allUp([SAMPLE_HEALTH, { ...failed, failed_s: 300.5 }]), true, 'older than the window');
  assert.equal(allUp([{ ...failed, failed_s: 400, last_heard_s: 2 }]), false, 'a lost tunnel stays down whatever the age of its failure');
});

test('conn: calls in progress and failed calls have their own line', () => {
  const call = { ...SAMPLE_CONNECTION, connection: 0, state: 'failed', age_s: 4, rx_packets: 0, rx_bytes: 0, tx_packets: 0, tx_bytes: 0, reason: 'no-listener' };
  assert.equal(connectionText(call), 'call: ms0 peer 10.77.0.2 remote 128.232.65.43:0x0800 state failed reason no-listener 4s ago');
  assert.equal(connectionText({ ...call, state: 'calling', reason: null, age_s: 1 }), 'call: ms0 peer 10.77.0.2 remote 128.232.65.43:0x0800 state calling for 1s');
});

test('status text names the database and socket the daemon uses', () => {
  assert.equal(
    statusText({ ...SAMPLE_STATUS, counters: {}, uptime_s: 5, db: '/var/lib/msnl/netns/a/msnl.db', socket: '/run/msnl/netns/a.sock' }),
    'msnld running pid 4242 version 0.1.0 uptime 5s\naddress 128.232.65.42 listen 0.0.0.0:7000\ndatabase /var/lib/msnl/netns/a/msnl.db socket /run/msnl/netns/a.sock',
  );
});

test('status text without an address, listen address or counters', () => {
  assert.equal(statusText({ ...SAMPLE_STATUS, msnl_address: null, listen: null, counters: {}, uptime_s: 5 }), 'msnld running pid 4242 version 0.1.0 uptime 5s\naddress (none) listen (none)');
});

test('health: a connection with several exits prints each one, and the exits text round-trips', async () => {
  const { formatExits, parseExits } = await import('../../src/control/rows.js');
  const { healthOutput } = await import('../../src/cli/health.js');
  const exits = [
    { endpoint: '198.51.100.2:7001', priority: 10, state: 'active' as const, rtt_ms: 0.412, loss: 0, pmtu: 1500 },
    { endpoint: '[2001:db8::2]:7001', priority: 20, state: 'down' as const, rtt_ms: null, loss: 1, pmtu: 1280 },
  ];
  const text = formatExits(exits);
  assert.deepEqual(parseExits(text), exits);
  for (const bad of ['', 'x/1/up/-/0/1500', '198.51.100.2:7001/1/active/-/0', '198.51.100.2:7001/a/active/-/0/1500']) assert.ok(!Array.isArray(parseExits(bad)), bad);
  const row = { ...SAMPLE_HEALTH, exits: text };
  assert.equal(healthText(row),
    '7: ms0 peer 10.77.0.2 remote 128.232.65.43 state up auth key tx proven rx proven rtt 1.250ms loss 0% pmtu 1500 heard 0.5s ago\n' +
    '    exit 198.51.100.2:7001 priority 10 state active rtt 0.412ms loss 0% pmtu 1500\n' +
    '    exit [2001:db8::2]:7001 priority 20 state down rtt - loss 100% pmtu 1280');
  assert.deepEqual(healthOutput(row).exits, exits, 'JSON prints the exits as a list');
  assert.equal(healthOutput(SAMPLE_HEALTH).exits, null);
});
