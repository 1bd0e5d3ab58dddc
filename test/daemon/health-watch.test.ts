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

test('HealthWatch.stillUpAt: a tunnel up is read again only once the time it was up until has passed, and its going down is still seen', () => {
  const warned: string[] = [];
  const { watch } = watchedBy(warned);
  const until = new Map<number, number>([[1, 5000], [2, 3000]]);
  let asked = 0;
  const upUntil = (conn: number): number => {
    asked++;
    return until.get(conn) ?? -Infinity;
  };
  const health = (conn: number, now: number): Health => {
    const up = (until.get(conn) ?? -Infinity) >= now;
    return { up, txProven: up, rxProven: up, rttMs: 1, lossRatio: 0, lastHeardMs: 100, maxDatagram: 1472, pathPhase: 'done' };
  };
  function* at(now: number): IterableIterator<WatchedConnection> {
    for (const conn of until.keys()) {
      if (watch.stillUpAt(conn, now, upUntil)) continue;
      yield { conn, interfaceName: 'ms0', peerIp: 0x0a000000 + conn, remoteMsnl: 0x80e80000 + conn, health: health(conn, now) };
    }
  }
  watch.sample(at(1000));
  assert.equal(asked, 2, 'new tunnels are asked once');
  asked = 0;
  watch.sample(at(2000));
  watch.sample(at(3000));
  assert.equal(asked, 0, 'and not again while the time kept has not passed');
  until.set(2, 6000); // proven again meanwhile
  watch.sample(at(4000));
  assert.equal(asked, 1, 'connection 2 is asked once its time has passed, and kept up');
  assert.equal(warned.length, 0);
  asked = 0;
  watch.sample(at(5500));
  assert.equal(asked, 1, 'connection 1, not proven again, is asked');
  assert.equal(warned.length, 1, `and its going down is logged (${warned.join('; ')})`);
  assert.match(warned.join(';'), /connection 1,.*\) down/, JSON.stringify(warned));
  until.delete(2);
  watch.sample(at(7000));
  assert.equal(watch.size, 1, 'a connection that went is forgotten');
});

test('HealthWatch.second: while no connection comes or goes, a second reads only the connections due (cached up time passed, or not up), and still sees a tunnel go down, come back and go', () => {
  const warned: string[] = [];
  const { watch, events } = watchedBy(warned);
  const states: string[] = [];
  const until = new Map<number, number>();
  for (let conn = 1; conn <= 1000; conn++) until.set(conn, 5000 + conn); // up until 5.001-6.0 s
  let asked = 0;
  let read = 0;
  let visited = 0;
  const upUntil = (conn: number): number => {
    asked++;
    return until.get(conn) ?? -Infinity;
  };
  const row = (conn: number, now: number): WatchedConnection => {
    read++;
    const up = (until.get(conn) ?? -Infinity) >= now;
    return { conn, interfaceName: 'ms0', peerIp: 0x0a000000 + conn, remoteMsnl: 0x80e80000 + conn, health: { ...health(up), lastHeardMs: 100 } };
  };
  function* only(ids: Iterable<number>, now: number): IterableIterator<WatchedConnection> {
    for (const conn of ids) {
      visited++;
      if (until.has(conn) && !watch.stillUpAt(conn, now, upUntil)) yield row(conn, now);
    }
  }
  const all = (now: number): IterableIterator<WatchedConnection> => only([...until.keys()], now);
  let generation = 1;
  const second = (now: number): void => watch.second(now, generation, all, only);
  second(1000);
  assert.equal(asked, 1000, 'the first second reads every connection');
  events.subscribe((e) => states.push(`${e.connection} ${e.state}`));
  asked = 0;
  visited = 0;
  for (let now = 2000; now <= 5000; now += 1000) second(now);
  assert.equal(visited, 0, 'no connection is visited while no cached up time has passed');
  assert.equal(asked, 0);
  for (let conn = 1; conn <= 1000; conn++) if (conn !== 7) until.set(conn, 11_000 + conn); // all but 7 proven again
  second(6000);
  assert.equal(asked, 999, 'at 6 s the ones up until 5.001-5.999 s are asked again (1000 is up until 6.0 s)');
  assert.deepEqual(states, ['7 down'], 'and the one not proven again is seen going down');
  assert.match(warned.join(';'), /connection 7,.*\) down/);
  asked = 0;
  read = 0;
  second(7000);
  assert.equal(read, 1, 'the next second reads the one down (and 1000, asked only)');
  until.set(7, 20_000);
  second(8000);
  assert.deepEqual(states, ['7 down', '7 up'], 'its coming back is seen');
  until.delete(3);
  generation++;
  second(9000);
  assert.equal(watch.size, 999, 'a connection gone (the generation moved) is forgotten at the next second');
  visited = 0;
  second(10_000);
  assert.equal(visited, 0, 'and the seconds after visit none again');
});
