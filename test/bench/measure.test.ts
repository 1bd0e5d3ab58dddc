import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  cpuPercent, median, parseFirstReplyMs, parseIperfTcp, parseIperfUdp, parsePing, parsePingTimes, parseProcStatTicks, parseVmRssBytes,
} from '../../bench/measure.js';

// Shapes taken from iperf 3.12 -J reports (trimmed to the fields the parsers read, plus neighbours).
const tcpReport = JSON.stringify({
  start: { version: 'iperf 3.12' },
  end: {
    sum_sent: { start: 0, end: 1.000061, seconds: 1.000061, bytes: 3907256320, bits_per_second: 31256143935.22, retransmits: 7, sender: true },
    sum_received: { start: 0, end: 1.000882, seconds: 1.000882, bytes: 3902406656, bits_per_second: 31191742131.44, sender: true },
  },
});
const udpReport = JSON.stringify({
  end: { sum: { start: 0, end: 1.000922, seconds: 1.000922, bytes: 7449600, bits_per_second: 59586670.27, jitter_ms: 0.13, lost_packets: 83167, packets: 116400, lost_percent: 71.45, sender: true } },
});

test('parseIperfTcp takes the receiver total and the sender retransmits', () => {
  const result = parseIperfTcp(tcpReport);
  assert.ok(!(result instanceof Error));
  assert.equal(result.bitsPerSecond, 31191742131.44);
  assert.equal(result.retransmits, 7);
});

test('parseIperfTcp reports iperf3 errors, non-JSON and missing totals as Error values', () => {
  const refused = parseIperfTcp(JSON.stringify({ start: {}, end: {}, error: 'unable to connect to server: Connection refused' }));
  assert.ok(refused instanceof Error);
  assert.match(refused.message, /Connection refused/);
  assert.ok(parseIperfTcp('iperf3: error - unable to connect') instanceof Error);
  assert.ok(parseIperfTcp('[1,2]') instanceof Error);
  assert.ok(parseIperfTcp(JSON.stringify({ end: { sum_received: { bits_per_second: 'fast' } } })) instanceof Error);
});

test('parseIperfUdp counts datagrams received, not sent', () => {
  const result = parseIperfUdp(udpReport);
  assert.ok(!(result instanceof Error));
  assert.ok(Math.abs(result.receivedPerSecond - (116400 - 83167) / 1.000922) < 1e-6);
  assert.ok(Math.abs(result.sentPerSecond - 116400 / 1.000922) < 1e-6);
  assert.ok(Math.abs(result.lostPercent - (100 * 83167) / 116400) < 1e-9);
});

test('parseIperfUdp rejects a report without packet counts or with zero seconds', () => {
  assert.ok(parseIperfUdp(JSON.stringify({ end: { sum: { packets: 10, seconds: 1 } } })) instanceof Error);
  assert.ok(parseIperfUdp(JSON.stringify({ end: { sum: { packets: 10, lost_packets: 0, seconds: 0 } } })) instanceof Error);
});

const pingOutput = `PING 10.0.0.2 (10.0.0.2) from 10.0.0.1 : 56(84) bytes of data.

--- 10.0.0.2 ping statistics ---
100 packets transmitted, 99 received, 1% packet loss, time 1034ms
rtt min/avg/max/mdev = 0.611/1.039/3.905/0.420 ms
`;

test('parsePing reads counts and the rtt line of iputils ping', () => {
  assert.deepEqual(parsePing(pingOutput), { transmitted: 100, received: 99, minMs: 0.611, avgMs: 1.039, maxMs: 3.905, mdevMs: 0.42 });
});

test('parsePing fails on total loss and on unrelated text', () => {
  const lost = parsePing('--- x ping statistics ---\n5 packets transmitted, 0 received, 100% packet loss, time 4080ms\n');
  assert.ok(lost instanceof Error);
  assert.match(lost.message, /0 of 5/);
  assert.ok(parsePing('ping: connect: Network is unreachable') instanceof Error);
});

test('parseFirstReplyMs reads the first reply line', () => {
  const text = 'PING 10.0.0.2 (10.0.0.2) 56(84) bytes of data.\n64 bytes from 10.0.0.2: icmp_seq=1 ttl=64 time=11.8 ms\n64 bytes from 10.0.0.2: icmp_seq=2 ttl=64 time=0.9 ms\n';
  assert.equal(parseFirstReplyMs(text), 11.8);
  assert.ok(parseFirstReplyMs('1 packets transmitted, 0 received') instanceof Error);
});

test('parsePingTimes reads every reply, so one stalled reply moves the median and not much else', () => {
  const text = 'PING 10.0.0.2 (10.0.0.2) 56(84) bytes of data.\n' +
    [0.31, 0.29, 48.2, 0.33, 0.3].map((t, i) => `64 bytes from 10.0.0.2: icmp_seq=${i + 1} ttl=64 time=${t} ms`).join('\n') + '\n';
  assert.deepEqual(parsePingTimes(text), [0.31, 0.29, 48.2, 0.33, 0.3]);
  assert.equal(median(parsePingTimes(text)), 0.31);
  assert.deepEqual(parsePingTimes('1 packets transmitted, 0 received'), []);
});

test('parseProcStatTicks adds utime and stime, also when the command name holds spaces and parens', () => {
  const fields = ['S', '1', '2', '3', '0', '-1', '4194560', '100', '0', '0', '0', '1234', '567', '0', '0', '20', '0', '11'];
  assert.equal(parseProcStatTicks(`4242 (node) ${fields.join(' ')}`), 1234 + 567);
  assert.equal(parseProcStatTicks(`4242 (a (b) c) ${fields.join(' ')}`), 1234 + 567);
  assert.ok(parseProcStatTicks('garbage') instanceof Error);
  assert.ok(parseProcStatTicks('1 (x) S 1') instanceof Error);
});

test('parseVmRssBytes reads VmRSS in kB', () => {
  assert.equal(parseVmRssBytes('Name:\tnode\nVmHWM:\t  80000 kB\nVmRSS:\t   75776 kB\nRssAnon:\t 40000 kB\n'), 75776 * 1024);
  assert.ok(parseVmRssBytes('Name:\tkthreadd\n') instanceof Error);
});

test('cpuPercent is percent of one core; median handles odd, even and empty samples', () => {
  assert.equal(cpuPercent(250, 5, 100), 50);
  assert.equal(cpuPercent(10, 0), 0);
  assert.equal(median([3, 1, 2]), 2);
  assert.equal(median([4, 1, 3, 2]), 2.5);
  assert.ok(Number.isNaN(median([])));
});
