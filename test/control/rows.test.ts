import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ProtocolError, encodePairs, parseLine, type Pair } from '../../src/control/protocol.js';
import {
  CONNECTION_SCHEMA, HEALTH_SCHEMA, INTERFACE_SCHEMA, PING_REPLY_SCHEMA, decodeRows, decodeStatus, encodeRow, encodeRowText, encodeRows, encodeStatus, formatSap,
  type ConnectionRow, type HealthRow, type InterfaceRow, type PingReplyRow,
} from '../../src/control/rows.js';
import { SAMPLE_CONNECTION, SAMPLE_HEALTH, SAMPLE_INTERFACE, SAMPLE_STATUS } from './fake-handler.js';

function pairs(text: string): Pair[] {
  return text.split('\n').filter((l) => l !== '').map((l) => parseLine(l) as Pair);
}

const STATUS_TEXT = `pid=4242
version=0.1.0
uptime_s=3725
msnl_address=128.232.65.42
listen=0.0.0.0:7000
counter=rx_frames
value=10
counter=tx_frames
value=12
counter=dropped_bad
value=1
`;

const INTERFACE_TEXT = `interface=ms0
mtu=1500
port=2048
address=10.77.0.1/24
admin_up=true
oper_up=true
bound=true
connections=1
rx_packets=3
rx_bytes=252
tx_packets=5
tx_bytes=420
drops=0
`;

const CONNECTION_TEXT = `connection=7
interface=ms0
peer_ip=10.77.0.2
local_sap=128.232.65.42:0x0800
remote_sap=128.232.65.43:0x0800
state=open
auth=key
age_s=12
rx_packets=3
rx_bytes=252
tx_packets=5
tx_bytes=420
initiator=local
pmtu=1500
`;

const HEALTH_TEXT = `connection=7
interface=ms0
peer_ip=10.77.0.2
remote_address=128.232.65.43
state=up
auth=key
tx_proven=true
rx_proven=true
rtt_ms=1.25
loss=0
pmtu=1500
last_heard_s=0.5
`;

test('status fixture: literal text both ways', () => {
  assert.equal(encodePairs(encodeStatus(SAMPLE_STATUS)), STATUS_TEXT);
  assert.deepEqual(decodeStatus(pairs(STATUS_TEXT)), SAMPLE_STATUS);
  const bare = { ...SAMPLE_STATUS, msnl_address: null, listen: null, counters: {} };
  assert.equal(encodePairs(encodeStatus(bare)), 'pid=4242\nversion=0.1.0\nuptime_s=3725\n');
  assert.deepEqual(decodeStatus(encodeStatus(bare)), bare);
});

test('interface, connection and health fixtures: literal text both ways', () => {
  assert.equal(encodePairs(encodeRows(INTERFACE_SCHEMA, [SAMPLE_INTERFACE])), INTERFACE_TEXT);
  assert.deepEqual(decodeRows(INTERFACE_SCHEMA, pairs(INTERFACE_TEXT)), [SAMPLE_INTERFACE]);
  assert.equal(encodePairs(encodeRows(CONNECTION_SCHEMA, [SAMPLE_CONNECTION])), CONNECTION_TEXT);
  assert.deepEqual(decodeRows(CONNECTION_SCHEMA, pairs(CONNECTION_TEXT + CONNECTION_TEXT.replace('connection=7', 'connection=8'))), [
    SAMPLE_CONNECTION,
    { ...SAMPLE_CONNECTION, connection: 8 },
  ]);
  assert.equal(encodePairs(encodeRows(HEALTH_SCHEMA, [SAMPLE_HEALTH])), HEALTH_TEXT);
  assert.deepEqual(decodeRows(HEALTH_SCHEMA, pairs(HEALTH_TEXT)), [SAMPLE_HEALTH]);
});

test('ping replies: a timeout has no rtt_ms, and bytes comes last', () => {
  const replies: PingReplyRow[] = [{ seq: 1, rtt_ms: 0.25, bytes: 64 }, { seq: 2, rtt_ms: null, bytes: 64 }];
  const text = 'seq=1\nrtt_ms=0.25\nbytes=64\nseq=2\nbytes=64\n';
  assert.equal(encodePairs(encodeRows(PING_REPLY_SCHEMA, replies)), text);
  assert.deepEqual(decodeRows(PING_REPLY_SCHEMA, pairs(text)), replies);
});

test('random rows round-trip', () => {
  let seed = 12345;
  const rand = (n: number): number => {
    seed = (seed * 1103515245 + 12345) & 0x7fffffff;
    return seed % n;
  };
  for (let i = 0; i < 300; i++) {
    const health: HealthRow = {
      ...SAMPLE_HEALTH, connection: rand(1 << 30), state: (['up', 'half', 'down'] as const)[rand(3)]!, tx_proven: rand(2) === 1,
      rx_proven: rand(2) === 1, rtt_ms: rand(4) === 0 ? null : rand(100000) / 1000, loss: rand(1001) / 1000, last_heard_s: rand(3) === 0 ? null : rand(1e6) / 10,
      reason: rand(2) ? null : 'timeout', failed_s: rand(2) ? null : rand(1e6) / 10,
    };
    const conn: ConnectionRow = {
      ...SAMPLE_CONNECTION, connection: rand(1e9), age_s: rand(1e9), rx_bytes: rand(1e9) * 1000, initiator: rand(2) ? 'local' : 'remote',
      reason: rand(2) ? null : 'no-listener',
    };
    const iface: InterfaceRow = { ...SAMPLE_INTERFACE, address: rand(2) ? null : `10.${rand(256)}.0.1/${rand(33)}`, admin_up: rand(2) === 1, drops: rand(1e6) };
    assert.deepEqual(decodeRows(HEALTH_SCHEMA, encodeRows(HEALTH_SCHEMA, [health])), [health]);
    assert.deepEqual(decodeRows(CONNECTION_SCHEMA, encodeRows(CONNECTION_SCHEMA, [conn])), [conn]);
    assert.deepEqual(decodeRows(INTERFACE_SCHEMA, encodeRows(INTERFACE_SCHEMA, [iface])), [iface]);
  }
});

test('row decoders refuse unknown, repeated, missing and mistyped keys', () => {
  const bad = [
    CONNECTION_TEXT + 'colour=red\n',
    CONNECTION_TEXT + 'state=open\n',
    CONNECTION_TEXT.replace('age_s=12\n', ''),
    CONNECTION_TEXT.replace('initiator=local', 'initiator=both'),
    CONNECTION_TEXT.replace('age_s=12', 'age_s=-1'),
    CONNECTION_TEXT.replace('state=open', 'state='),
    'state=open\n' + CONNECTION_TEXT,
  ];
  for (const text of bad) assert.ok(decodeRows(CONNECTION_SCHEMA, pairs(text)) instanceof ProtocolError, text);
  assert.ok(decodeRows(HEALTH_SCHEMA, pairs(HEALTH_TEXT.replace('tx_proven=true', 'tx_proven=1'))) instanceof ProtocolError);
  assert.ok(decodeRows(HEALTH_SCHEMA, pairs(HEALTH_TEXT.replace('rtt_ms=1.25', 'rtt_ms=NaN'))) instanceof ProtocolError);
  assert.ok(decodeStatus(pairs(STATUS_TEXT + 'counter=rx_frames\nvalue=1\n')) instanceof ProtocolError);
  assert.ok(decodeStatus(pairs(STATUS_TEXT + 'pid=1\n')) instanceof ProtocolError);
});

test('SAPs are written with a hex port', () => {
  assert.equal(formatSap('128.232.65.42', 0x800), '128.232.65.42:0x0800');
  assert.equal(formatSap('1.2.3.4', 0xdeadbeef), '1.2.3.4:0xdeadbeef');
});

test('encodeRowText renders exactly what encodePairs(encodeRow()) renders, control characters included', () => {
  const odd = { ...SAMPLE_CONNECTION, interface: 'ms\n0', peer_ip: 'a\x7fb', reason: null, age_s: 12.7, rx_bytes: -3 };
  const health = { ...SAMPLE_HEALTH, rtt_ms: null, loss: 0.25, last_heard_s: Number.NaN };
  for (const [schema, row] of [[CONNECTION_SCHEMA, SAMPLE_CONNECTION], [CONNECTION_SCHEMA, odd], [HEALTH_SCHEMA, SAMPLE_HEALTH], [HEALTH_SCHEMA, health]] as const) {
    assert.equal(encodeRowText(schema, row), encodePairs(encodeRow(schema, row)));
  }
  assert.match(encodeRowText(CONNECTION_SCHEMA, odd), /^interface=ms\?0$/m);
});
