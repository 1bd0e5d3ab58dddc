// The swarm's warm-up (bench/swarm.ts): before its storm, a swarm process makes WARM_CALLERS
// throwaway callers, built by the same function as its real ones, call an in-process callee
// (an MsnlEndpoint accepting every call inside its event, as msnld's manager does) over queues
// instead of sockets, on a clock of its own: the first requests are lost (so the retransmission
// runs), then the probes of two intervals, then the hang-up, WARM_ROUNDS times. A profile of a
// 20 000 storm (`SCALE_PERF`, bench/README) found a fifth to a quarter of the swarm's CPU in V8
// compiling the callers' code optimised during the storm, on the two cores msnld needs; after
// this it is compiled before the storm starts. Load-generator code: msnld does not use it.
import { MsnlEndpoint } from '../src/msnl/endpoint.js';
import type { Clock } from '../src/base/clock.js';

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
export type MakeCaller<L> = (index: number, address: number, port: CallerPort, clock: Clock,
  wake: (endpoint: MsnlEndpoint<L>, at: number) => void, counts: CallerTally, timedOut: (index: number) => boolean) => MsnlEndpoint<L>;

/** Throwaway callers per swarm process, each calling WARM_ROUNDS times: enough calls for V8 to
 *  compile the functions a call runs once optimised (a few hundred to a few thousand runs). */
export const WARM_CALLERS = 2000;
const WARM_ROUNDS = 3;
/** The warm callers' MSNL addresses (10.255.0.0/16) and tunnel IPs: any, they never leave the process. */
const WARM_BASE = 0x0aff0000;

class WarmQueue implements CallerPort {
  readonly toCallee: Array<[number, Uint8Array]> = [];
  /** Requests are lost while set (the callers retransmit). */
  lose = false;

  send(index: number, buf: Uint8Array, offset: number, length: number): void {
    if (!this.lose) this.toCallee.push([index, buf.slice(offset, offset + length)]);
  }
}

export interface WarmResult {
  /** Every call came up and every connection went, on both sides. */
  readonly ok: boolean;
  readonly calls: number;
  readonly connected: number;
}

/** Runs the warm-up: `n` callers made by `make`, calling `target`'s port `port` over `link`. */
export function warmUp<L extends { host: string; port: number }>(make: MakeCaller<L>, link: L, target: number, port: number, n: number): WarmResult {
  let now = Date.now();
  const clock = { now: () => now };
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
  const noWake = (): void => undefined;
  const callers = Array.from({ length: n }, (_, i) => make(i, WARM_BASE + i, queue, clock, noWake, tally, () => false));
  const pump = (): void => {
    while (queue.toCallee.length > 0 || toCaller.length > 0) {
      for (const [i, bytes] of queue.toCallee.splice(0)) callee.receiveFrame(bytes, 0, bytes.length, links[i]!);
      for (const [i, bytes] of toCaller.splice(0)) callers[i]!.receiveFrame(bytes, 0, bytes.length, link);
    }
  };
  const later = (ms: number): void => {
    now += ms;
    for (const c of callers) c.tick();
    callee.tick();
    pump();
  };
  for (let round = 0; round < WARM_ROUNDS; round++) {
    queue.lose = round === 0;
    for (let i = 0; i < n; i++) callers[i]!.connect({ remoteAddress: target, remotePort: port, localPort: port, ipa: WARM_BASE + i, link });
    pump();
    queue.lose = false;
    if (round === 0) later(250);
    later(2_500);
    later(2_500);
    for (const c of callers) for (const conn of c.connections()) c.disconnect(conn.connId);
    pump();
    later(6_000);
  }
  const ok = tally.connected === n * WARM_ROUNDS && tally.failed === 0 && callee.connectionCount === 0 && callers.every((c) => c.connectionCount === 0);
  return { ok, calls: n * WARM_ROUNDS, connected: tally.connected };
}
