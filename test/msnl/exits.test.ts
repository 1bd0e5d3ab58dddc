import { test } from 'node:test';
import assert from 'node:assert/strict';
import { DEFAULT_EXIT_TIMERS, ExitSet, MAX_EXITS, callLinks, exitSetFor } from '../../src/msnl/exits.js';
import { PathMtu } from '../../src/msnl/pmtu.js';

const pathOf = (): PathMtu => new PathMtu(1472, 0, true);
const same = (a: string, b: string): boolean => a === b;

/** Runs the set from `from` to `to` in 10 ms steps; links in `alive` answer each probe 5 ms later. */
function drive(set: ExitSet<string>, alive: Set<string>, from: number, to: number, moves: Array<{ at: number; to: string }> = []): Array<{ at: number; to: string }> {
  const pending: Array<{ at: number; seq: number }> = [];
  for (let now = from; now <= to; now += 5) {
    for (let i = pending.length - 1; i >= 0; i--) {
      if (pending[i]!.at <= now) {
        set.answered(pending[i]!.seq, now);
        pending.splice(i, 1);
      }
    }
    if (now >= set.nextAt && set.run(now, (link, seq) => {
      if (alive.has(link)) pending.push({ at: now + 5, seq });
    })) moves.push({ at: now, to: set.current.link });
  }
  return moves;
}

test('the connection moves to the answering standby within the active down time, and back after the hold-down', () => {
  const set = new ExitSet<string>([{ link: 'A', priority: 10 }, { link: 'B', priority: 20 }], 0, pathOf(), pathOf, 0);
  const alive = new Set(['A', 'B']);
  drive(set, alive, 0, 10_000);
  assert.equal(set.current.link, 'A');
  assert.deepEqual(set.info(10_000).map((e) => e.state), ['active', 'standby'], 'both answer; the standby is probed too');
  alive.delete('A');
  const moves = drive(set, alive, 10_005, 20_000);
  assert.equal(moves.length, 1, JSON.stringify(moves));
  assert.equal(moves[0]!.to, 'B');
  const stall = moves[0]!.at - 10_000;
  assert.ok(stall <= DEFAULT_EXIT_TIMERS.activeDownMs + DEFAULT_EXIT_TIMERS.activeProbeMs + 20 && stall < 3000, `moved after ${stall} ms`);
  assert.deepEqual(set.info(20_000).map((e) => e.state), ['down', 'active']);
  assert.ok(set.info(20_000)[0]!.lossRatio > 0.5, 'the dead exit shows its loss');
  alive.add('A');
  const back = drive(set, alive, 20_005, 40_000);
  assert.equal(back.length, 1, JSON.stringify(back));
  assert.equal(back[0]!.to, 'A');
  const held = back[0]!.at - 20_000;
  assert.ok(held >= DEFAULT_EXIT_TIMERS.holdDownMs && held <= DEFAULT_EXIT_TIMERS.holdDownMs + DEFAULT_EXIT_TIMERS.standbyProbeMs + 50, `moved back after ${held} ms`);
  assert.equal(set.moves, 2);
});

test('a preferred exit that flaps does not take over before it answers for the whole hold-down', () => {
  const set = new ExitSet<string>([{ link: 'A', priority: 1 }, { link: 'B', priority: 2 }], 1, pathOf(), pathOf, 0);
  const alive = new Set(['B']);
  drive(set, alive, 0, 3000);
  assert.equal(set.current.link, 'B');
  for (let t = 3000; t < 30_000; t += 4000) {
    alive.add('A');
    drive(set, alive, t, t + 3000);
    alive.delete('A');
    drive(set, alive, t + 3005, t + 4000 - 5);
  }
  assert.equal(set.current.link, 'B', 'A never answered for 5 s in a row');
  alive.add('A');
  drive(set, alive, 30_000, 37_000);
  assert.equal(set.current.link, 'A');
});

test('with every exit silent the connection stays where it is; the first exit to answer takes it', () => {
  const set = new ExitSet<string>([{ link: 'A', priority: 0 }, { link: 'B', priority: 0 }, { link: 'C', priority: 5 }], 0, pathOf(), pathOf, 0);
  const alive = new Set<string>();
  assert.deepEqual(drive(set, alive, 0, 5000), []);
  assert.equal(set.current.link, 'A');
  assert.deepEqual(set.info(5000).map((e) => e.state), ['active', 'down', 'down']);
  alive.add('C');
  const moves = drive(set, alive, 5005, 8000);
  assert.deepEqual(moves.map((m) => m.to), ['C']);
  // Equal priorities: the one in use is kept when the other comes back (no flapping).
  alive.add('B');
  drive(set, alive, 8005, 20_000);
  assert.equal(set.current.link, 'B', 'B (priority 0) is preferred to C (5) after the hold-down');
  alive.add('A');
  drive(set, alive, 20_005, 40_000);
  assert.equal(set.current.link, 'B', 'A has the same priority as B: no move');
});

test('answers are checked: a reply to no probe, or to another exit\'s index, is refused; probes are spread by rate', () => {
  const set = new ExitSet<string>([{ link: 'A', priority: 0 }, { link: 'B', priority: 1 }], 0, pathOf(), pathOf, 0);
  const sent: Array<{ link: string; seq: number; at: number }> = [];
  for (let now = 0; now <= 10_000; now += 10) if (now >= set.nextAt) set.run(now, (link, seq) => sent.push({ link, seq, at: now }));
  const toA = sent.filter((s) => s.link === 'A').length;
  const toB = sent.filter((s) => s.link === 'B').length;
  assert.ok(toA >= 35 && toA <= 45, `active exit probed every 250 ms (${toA} in 10 s)`);
  assert.ok(toB >= 9 && toB <= 12, `standby probed every second (${toB} in 10 s)`);
  assert.equal(set.answered(0xfffffff8, 10_000), false, 'no such probe');
  assert.equal(set.answered(7, 10_000), false, 'no exit 7');
  const last = sent.filter((s) => s.link === 'B').at(-1)!;
  assert.equal(set.answered(last.seq, 10_001), true);
  assert.equal(set.answered(last.seq, 10_002), false, 'answered once only');
  assert.ok(set.info(10_002)[1]!.rttMs >= 0);
});

test('exitSetFor: fewer than two exits make no set; an unnamed caller joins as the preferred exit; at most MAX_EXITS', () => {
  assert.equal(exitSetFor('A', pathOf(), [{ link: 'A', priority: 0 }], same, pathOf, 0), null);
  assert.equal(exitSetFor('A', pathOf(), undefined, same, pathOf, 0), null);
  const named = exitSetFor('B', pathOf(), [{ link: 'A', priority: 0 }, { link: 'B', priority: 9 }], same, pathOf, 0)!;
  assert.equal(named.current.link, 'B', 'the call\'s link is the active exit');
  const nat = exitSetFor('N', pathOf(), [{ link: 'A', priority: 3 }, { link: 'B', priority: 9 }], same, pathOf, 0)!;
  assert.deepEqual(nat.exits.map((e) => [e.link, e.priority]), [['N', 3], ['A', 3], ['B', 9]]);
  const many = exitSetFor('x0', pathOf(), Array.from({ length: 12 }, (_, i) => ({ link: `x${i}`, priority: i })), same, pathOf, 0)!;
  assert.equal(many.exits.length, MAX_EXITS);
});

test('callLinks: the link asked for, then the route\'s other exits by priority (route order between equals), at most MAX_EXITS', () => {
  const same = (x: string, y: string): boolean => x === y;
  const spec = (link: string, priority: number): { link: string; priority: number } => ({ link, priority });
  assert.deepEqual(callLinks('x', undefined, same), ['x']);
  assert.deepEqual(callLinks('x', [spec('x', 1)], same), ['x'], 'one exit: that one only');
  assert.deepEqual(callLinks('b', [spec('c', 30), spec('b', 10), spec('d', 20), spec('e', 20)], same), ['b', 'd', 'e', 'c']);
  assert.deepEqual(callLinks('nat', [spec('c', 30), spec('b', 10)], same), ['nat', 'b', 'c'], 'a link the route does not name goes first');
  const many = Array.from({ length: 12 }, (_, i) => spec(`l${i}`, 12 - i));
  const links = callLinks('l0', many, same);
  assert.equal(links.length, MAX_EXITS);
  assert.equal(links[0], 'l0');
  assert.deepEqual(links.slice(1), ['l7', 'l6', 'l5', 'l4', 'l3', 'l2', 'l1'], 'only the route\'s first MAX_EXITS exits, by priority');
});
