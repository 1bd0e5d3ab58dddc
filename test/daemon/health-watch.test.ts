import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Logger } from '../../src/base/logger.js';
import { DaemonEvents } from '../../src/daemon/events.js';
import { HealthWatch, type WatchedConnection } from '../../src/daemon/health-watch.js';
import type { Health } from '../../src/msnl/types.js';

const health = (up: boolean): Health => ({ up, txProven: up, rxProven: up, rttMs: 1, lossRatio: 0, lastHeardMs: 100, maxDatagram: 1472, pathPhase: 'done' });

/**
 * A HealthWatch (warnings into `warned`) and, as the daemon's watched() does, a generator of its
 * connections that asks the cheap "is it up" first and reads the health only when that says
 * nothing; `reads` counts the health reads.
 */
function watchedBy(warned: string[] = []) {
  const events = new DaemonEvents(() => 0);
  const quiet = () => undefined;
  const watch = new HealthWatch({ error: quiet, warn: (t: string) => warned.push(t), info: quiet, debug: quiet, verbose: quiet } as unknown as Logger, events);
  const counted = { reads: 0 };
  function* connections(up: ReadonlyMap<number, boolean>): IterableIterator<WatchedConnection> {
    for (const [conn, isUp] of up) {
      if (isUp && watch.stillUp(conn)) continue;
      counted.reads++;
      yield { conn, interfaceName: 'ms0', peerIp: 0x0a000000 + conn, remoteMsnl: 0x80e80000 + conn, health: health(isUp) };
    }
  }
  return { events, watch, connections, counted };
}

test('HealthWatch.stillUp: a tunnel up at the last sample and up now is kept without its health being read; anything else is read', () => {
  const { events, watch, connections, counted } = watchedBy();
  const states: string[] = [];
  events.subscribe((e) => states.push(`${e.connection} ${e.state}`));
  watch.sample(connections(new Map([[1, true], [2, false]])));
  assert.equal(counted.reads, 2, 'the first sample reads every connection');
  assert.deepEqual(states, ['1 up', '2 down']);
  counted.reads = 0;
  watch.sample(connections(new Map([[1, true], [2, false]])));
  assert.equal(counted.reads, 1, 'the one still up is not read again; the one down is');
  assert.equal(watch.size, 2, 'and neither is forgotten');
  watch.sample(connections(new Map([[1, false], [2, true]])));
  assert.deepEqual(states, ['1 up', '2 down', '1 down', '2 up'], 'changes are still seen both ways');
  watch.sample(connections(new Map([[2, true]])));
  assert.equal(watch.size, 1, 'a connection that went is forgotten');
});

test('HealthWatch.stillUp: with nobody monitoring, a new tunnel up at first sight is not read; once it goes down that is logged as after any up', () => {
  const warned: string[] = [];
  const { events, watch, connections, counted } = watchedBy(warned);
  watch.sample(connections(new Map([[1, true], [2, true], [3, false]])));
  assert.equal(counted.reads, 1, 'only the one not up is read');
  assert.equal(watch.size, 3, 'all three are watched');
  watch.sample(connections(new Map([[1, false], [2, true], [3, false]])));
  assert.equal(warned.length, 1, `the first one going down is logged (it was up): ${warned.join('; ')}`);
  assert.match(warned[0] ?? '', /connection 1,.*\) down/);
  const states: string[] = [];
  events.subscribe((e) => states.push(`${e.connection} ${e.state}`));
  counted.reads = 0;
  watch.sample(connections(new Map([[1, false], [2, true], [3, false], [4, true]])));
  assert.deepEqual(states, ['4 up'], 'a monitor is told of a new tunnel up');
});
