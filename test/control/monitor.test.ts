// monitor=1: the request's grammar, events streamed by the server and decoded by the client as
// they come, -EOPNOTSUPP from a handler without monitor, health transitions, and the CLI lines.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { ControlClient } from '../../src/control/client.js';
import { Errno, ProtocolError, encodeRequest, parseRequest } from '../../src/control/protocol.js';
import type { EventRow } from '../../src/control/rows.js';
import { ControlServer } from '../../src/control/server.js';
import { DaemonEvents } from '../../src/daemon/events.js';
import { HealthWatch } from '../../src/daemon/health-watch.js';
import type { Logger } from '../../src/base/logger.js';
import type { Health } from '../../src/msnl/types.js';
import { eventJson, formatEvent } from '../../src/cli/monitor.js';
import { FakeHandler } from './fake-handler.js';
import { rawExchange, tempDir } from './socket-helpers.js';

const T = Date.UTC(2026, 10, 30, 3, 40, 1, 250);

test('monitor=1 parses, takes no options, and encodes back', () => {
  assert.deepEqual(parseRequest('monitor=1\n'), { kind: 'monitor' });
  assert.equal(encodeRequest({ kind: 'monitor' }), 'monitor=1\n\n');
  for (const bad of ['monitor=2\n', 'monitor=1\ncount=1\n']) {
    const parsed = parseRequest(bad);
    assert.ok(parsed instanceof ProtocolError && parsed.errno === Errno.EINVAL, bad);
  }
});

test('the server streams events as they happen and the client decodes each at once; aborting ends it', async () => {
  const dir = tempDir();
  const socketPath = path.join(dir, 'msnld.sock');
  const events = new DaemonEvents(() => T);
  const handler = Object.assign(new FakeHandler(), {
    monitor: (onEvent: (event: EventRow) => void, signal: AbortSignal) =>
      new Promise<void>((resolve) => {
        const off = events.subscribe(onEvent);
        signal.addEventListener('abort', () => (off(), resolve()), { once: true });
      }),
  });
  const server = new ControlServer(handler, socketPath);
  await server.listen();
  try {
    const seen: EventRow[] = [];
    const stop = new AbortController();
    const following = new ControlClient(socketPath).monitor((event) => {
      seen.push(event);
      if (seen.length === 2) stop.abort();
    }, stop.signal);
    for (let i = 0; i < 100 && seen.length === 0; i++) {
      events.emit({ event: 'up', interface: 'ms0', connection: 7, peer_ip: '10.0.0.2', remote_address: '128.232.0.2' });
      if (seen.length === 0) await new Promise((resolve) => setTimeout(resolve, 20));
    }
    events.emit({ event: 'call_failed', interface: 'ms1', remote_address: '128.232.0.9', reason: 'timeout (TIMEOUT)' });
    await following;
    assert.deepEqual(seen[0], { event: 'up', interface: 'ms0', connection: 7, peer_ip: '10.0.0.2', remote_address: '128.232.0.2', state: null, reason: null, prefix: null, time_ms: T });
    assert.deepEqual(seen[1], { event: 'call_failed', interface: 'ms1', connection: null, peer_ip: null, remote_address: '128.232.0.9', state: null, reason: 'timeout (TIMEOUT)', prefix: null, time_ms: T });
    assert.equal(seen.length, 2);
  } finally {
    await server.close();
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('a handler without monitor answers -EOPNOTSUPP', async () => {
  const dir = tempDir();
  const socketPath = path.join(dir, 'msnld.sock');
  const server = new ControlServer(new FakeHandler(), socketPath);
  await server.listen();
  try {
    assert.equal(await rawExchange(socketPath, 'monitor=1\n\n', 1), 'protocol_version=1\nmessage=monitor is not supported\nerrno=-95\n\n');
  } finally {
    await server.close();
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('HealthWatch: each change of state is one event; a tunnel that was up logs going half/down (why) and up again; gone ids are forgotten', () => {
  const events = new DaemonEvents(() => T);
  const seen: EventRow[] = [];
  events.subscribe((e) => seen.push(e));
  const lines: string[] = [];
  const log = { error: (m: string) => lines.push(`error ${m}`), warn: (m: string) => lines.push(`warn ${m}`), info: (m: string) => lines.push(`info ${m}`), debug: () => undefined, verbose: () => undefined };
  const watch = new HealthWatch(log as unknown as Logger, events);
  const health = (tx: boolean, rx: boolean, lastHeardMs = 100): Health => ({ up: tx && rx, txProven: tx, rxProven: rx, rttMs: 1, lossRatio: 0, lastHeardMs, maxDatagram: 1472, pathPhase: 'done' });
  const conn = (h: Health) => [{ conn: 3, interfaceName: 'ms0', peerIp: 0x0a000002, remoteMsnl: 0x80e80002, health: h }];
  watch.sample(conn(health(true, false)));
  watch.sample(conn(health(true, false)));
  watch.sample(conn(health(true, true)));
  assert.deepEqual(seen.map((e) => e.state), ['half', 'up'], 'one event per change, none for an unchanged state');
  assert.deepEqual(lines, [], 'coming up for the first time is not a health log line');
  watch.sample(conn(health(true, false, 6200)));
  watch.sample(conn(health(false, false, 12_000)));
  watch.sample(conn(health(true, true)));
  assert.deepEqual(lines, [
    'warn ms0: tunnel to 10.0.0.2 (connection 3, MSNL 128.232.0.2) half: nothing heard from the peer for 6.2 s',
    'warn ms0: tunnel to 10.0.0.2 (connection 3, MSNL 128.232.0.2) down: nothing heard from the peer for 12.0 s, our probes are not answered',
    'info ms0: tunnel to 10.0.0.2 (connection 3, MSNL 128.232.0.2) up again',
  ]);
  assert.equal(seen.at(-2)?.reason, 'nothing heard from the peer for 12.0 s, our probes are not answered');
  assert.equal(watch.size, 1);
  watch.sample([]);
  assert.equal(watch.size, 0, 'a connection that went is forgotten');
});

test('msnl monitor lines: time, event, interface, then the fields that have values; -j leaves nulls out', () => {
  const events = new DaemonEvents(() => T);
  const down = events.row({ event: 'down', interface: 'ms0', connection: 7, peer_ip: '10.0.0.2', remote_address: '128.232.0.2', reason: 'released by peer: SHUTDOWN' });
  assert.equal(formatEvent(down), '2026-11-30T03:40:01.250Z down ms0 connection 7 peer_ip 10.0.0.2 remote_address 128.232.0.2 reason "released by peer: SHUTDOWN"');
  const reconcile = events.row({ event: 'reconcile', reason: 'forced' });
  assert.equal(formatEvent(reconcile), '2026-11-30T03:40:01.250Z reconcile reason "forced"');
  assert.deepEqual(eventJson(reconcile), { event: 'reconcile', reason: 'forced', time_ms: T });
});
