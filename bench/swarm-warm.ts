// The swarm's warm-up (bench/swarm.ts): before its storm, a swarm process makes WARM_CALLERS
// throwaway callers, built by the same function as its real ones, call an in-process callee
// (an MsnlEndpoint accepting every call inside its event, as msnld's manager does) over queues
// instead of sockets, on the callers' clock moved on by hand: each round the calls (their first
// requests lost in the first, their first confirms in the second, every answer twice in the
// third: a storm's retransmissions and duplicate confirms), the probes of two intervals, the
// hang-up. A profile of a
// 20 000 storm (`SCALE_PERF`, bench/README) found a fifth to a quarter of the swarm's CPU in V8
// compiling the callers' code optimised during the storm, on the two cores msnld needs; after
// this it is compiled before the storm starts. Load-generator code: msnld does not use it.
import { MsnlEndpoint } from '../src/msnl/endpoint.js';

/** What a caller sends through: the swarm's sockets, or the warm-up's queue. */
export interface CallerPort {
  send(index: number, buf: Uint8Array, offset: number, length: number): void;
}

/** Calls that came up, failed, and calls the callers were offered. */
export interface CallerTally {
  connected: number;
  failed: number;
  incoming: number;
}

/** Makes caller `index` (swarm.ts): `timedOut` says whether a timed-out call is made again. */
export type MakeCaller<L> = (index: number, address: number, port: CallerPort, counts: CallerTally, timedOut: (index: number) => boolean) => MsnlEndpoint<L>;

/** Throwaway callers per swarm process, each calling WARM_ROUNDS times: enough calls for V8 to
 *  compile the functions a call runs once optimised (a few hundred to a few thousand runs). */
export const WARM_CALLERS = 2000;
const WARM_ROUNDS = 3;
/** The warm callers' MSNL addresses (128.254.0.0/16, above 2^31 as the real ones, 128.233.x.y: V8
 *  keeps such numbers boxed, and code compiled for small integers only would be thrown away in the
 *  storm) and tunnel IPs (10.254.x.y, as 10.9.x.y): any, they never leave the process. */
const WARM_ADDRESS = 0x80fe0000;
const WARM_IP = 0x0afe0000;

class WarmQueue implements CallerPort {
  readonly toCallee: Array<[number, Uint8Array]> = [];
  /** Requests are lost while set (the callers retransmit). */
  lose = false;

  send(index: number, buf: Uint8Array, offset: number, length: number): void {
    if (!this.lose) this.toCallee.push([index, buf.slice(offset, offset + length)]);
  }
}

/** What the callers' clock needs of the warm-up: time moved on by `ms`. The swarm's callers read
 *  one clock (Date.now() plus a skew the warm-up moves and then sets back to 0): the real callers
 *  hold no call or timer meanwhile. */
export interface WarmClock {
  now(): number;
  advance(ms: number): void;
  /** Back to the real time. */
  reset(): void;
}

export interface WarmResult {
  /** Every call came up and every connection went, on both sides. */
  readonly ok: boolean;
  readonly calls: number;
  readonly connected: number;
}

/**
 * Runs the warm-up: `n` callers made by `make`, calling `target`'s port `port` over `link`, on
 * `clock` (set back when done).
 */
export function warmUp<L extends { host: string; port: number }>(make: MakeCaller<L>, link: L, target: number, port: number, n: number, clock: WarmClock): WarmResult {
  const tally: CallerTally = { connected: 0, failed: 0, incoming: 0 };
  const queue = new WarmQueue();
  const toCaller: Array<[number, Uint8Array]> = [];
  // The callee tells its callers apart by link, as msnld by address and port.
  const links = Array.from({ length: n }, (_, i) => ({ ...link, port: i }));
  const callee: MsnlEndpoint<L> = new MsnlEndpoint<L>({
    localAddress: target,
    clock,
    config: { pathProbing: false },
    transmit: (to, buf, offset, length) => void toCaller.push([to.port, buf.slice(offset, offset + length)]),
    events: {
      incomingCall: (call) => void callee.accept(call.callId),
      connected: () => undefined,
      callFailed: () => undefined,
      data: () => undefined,
      disconnected: () => undefined,
      idle: () => undefined,
      echoReply: () => undefined,
    },
  });
  callee.listen(port);
  const callers = Array.from({ length: n }, (_, i) => make(i, WARM_ADDRESS + i, queue, tally, () => false));
  // `answers`: 0 loses what the callee sends, 2 delivers it twice (a storm's duplicate confirms).
  const pump = (answers = 1): void => {
    while (queue.toCallee.length > 0 || toCaller.length > 0) {
      for (const [i, bytes] of queue.toCallee.splice(0)) callee.receiveFrame(bytes, 0, bytes.length, links[i]!);
      for (const [i, bytes] of toCaller.splice(0)) for (let k = 0; k < answers; k++) callers[i]!.receiveFrame(bytes, 0, bytes.length, link);
    }
  };
  const later = (ms: number): void => {
    clock.advance(ms);
    for (const c of callers) c.tick();
    callee.tick();
    pump();
  };
  // Round 0 loses the first requests, round 1 the first confirms (both retransmitted), round 2
  // delivers every answer twice.
  for (let round = 0; round < WARM_ROUNDS; round++) {
    queue.lose = round === 0;
    for (let i = 0; i < n; i++) callers[i]!.connect({ remoteAddress: target, remotePort: port, localPort: port, ipa: WARM_IP + i, link });
    pump(round === 1 ? 0 : round === 2 ? 2 : 1);
    queue.lose = false;
    if (round < 2) later(250);
    later(2_500);
    later(2_500);
    for (const c of callers) for (const conn of c.connections()) c.disconnect(conn.connId);
    pump();
    later(6_000);
  }
  clock.reset();
  const ok = tally.connected === n * WARM_ROUNDS && tally.failed === 0 && callee.connectionCount === 0 && callers.every((c) => c.connectionCount === 0);
  return { ok, calls: n * WARM_ROUNDS, connected: tally.connected };
}
