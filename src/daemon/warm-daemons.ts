// The second part of msnld's warm-up (the first is warmup.ts): two whole, throwaway Daemons, each
// with an in-memory database, fake TUN devices and msnld's own UDP underlay over an in-process
// stand-in for the addon's socket (src/msdl/udp-loop.ts), make a call on each of ms0..ms3 with a
// ping each way, then stop. warmup.ts runs the endpoint, manager and tunnel code
// many times over its own wiring; what it cannot reach is the Daemon's own code on a call (its
// callbacks between the parts, the connection -> tunnel map, the events, the health watch, the
// wake timer, the log lines), and V8 keeps that code cold per function literal: in fresh
// in-process daemons a first call cost 4.3-5.5 ms of CPU after warmup.ts alone and 2.5-3.0 ms
// with one pass of whole daemons before it (bench/README.md "Where a first reply waits").
// Keyed when this host is keyed. Bounded: every wait has a deadline, and the daemons stop whatever
// happened; nothing is left behind (their timers stop, their devices and stores close).
import { setImmediate as turn } from 'node:timers/promises';
import { performance } from 'node:perf_hooks';
import { TUNNEL_INTERFACES } from '../abi/interfaces.js';
import { causeOf, createLogger, type Logger } from '../base/logger.js';
import { generateKeyPair, type KeyPair } from '../crypto/primitives.js';
import { routeMtu } from '../msdl/udp-addon.js';
import { UdpLoop } from '../msdl/udp-loop.js';
import { UdpUnderlay } from '../msdl/udp.js';
import { openStore, type Store } from '../store/store.js';
import { createFakeTun, type FakeTunPeer } from '../tun/fake.js';
import { Daemon } from './daemon.js';
import { echoReply, echoRequest, WARM_UP_LIMITS, warmUpInTurns } from './warmup.js';
import { ipOf } from './warm-host.js';

const MSNL = [0x7f000001, 0x7f000002];
/** The daemons' underlay addresses: ports of one in-process UdpLoop (nothing is bound or sent). */
const LISTEN_HOST = '127.0.0.1';
const PORTS = [7010, 7011];
/** How long the whole-daemon pass runs at most before its daemons stop (their start included). */
export const WHOLE_DAEMONS_BUDGET_MS = 2000;
/**
 * Rounds of one call per interface, hung up between rounds (keyed and plain alternately on a keyed
 * host). One: 10, 30 or 100 rounds did not make a first call cheaper (bench/README.md) and cost
 * RSS; keyed, more than about 10 rounds also meet the peer's handshake rate limit (20 a second).
 */
export const WHOLE_DAEMONS_ROUNDS = 1;
/** How long msnld's readiness waits for the warm-up at most (it takes 0.1-0.3 s on a quiet machine). */
export const WARM_UP_READY_MS = 300;

export interface WarmDaemonsResult {
  /** Pings that came back (of one per interface and round). */
  readonly replies: number;
  /** Connections the first daemon held over the rounds (a new one per interface and round when the hang-ups worked). */
  readonly connections: number;
  readonly ms: number;
}

/** Runs the whole-daemon warm-up; resolves when both daemons have stopped (within about `budgetMs` after they started). */
export async function warmDaemons(keyed: boolean, budgetMs = WHOLE_DAEMONS_BUDGET_MS, stopped: () => boolean = () => false, rounds = WHOLE_DAEMONS_ROUNDS): Promise<WarmDaemonsResult> {
  const started = performance.now();
  const deadline = started + budgetMs;
  // msnld's own underlay class over an in-process stand-in for the addon's socket, so a first
  // call also finds the batched socket's code (udp-native.ts, udp-batch.ts) warm, not only the
  // in-memory hub's (bench/README.md "First reply, issue 20").
  const loop = new UdpLoop();
  const underlay = new UdpUnderlay({ error: () => undefined, verbose: () => undefined }, { native: loop.native, receiveBatch: 8, queueLength: 64, queueBytes: 1 << 16 });
  const keys: KeyPair[] | null = keyed ? [generateKeyPair(), generateKeyPair()] : null;
  const stores: Store[] = [];
  const daemons: Daemon<unknown>[] = [];
  const peers: FakeTunPeer[][] = [[], []];
  let replies = 0;
  const connections = new Set<number>();
  try {
    for (const i of [0, 1]) {
      const store = openStore(':memory:');
      stores.push(store);
      store.updateHost({ msnlAddress: MSNL[i]!, listenHost: LISTEN_HOST, listenPort: PORTS[i]! });
      if (keys !== null) store.setPrivateKey(keys[i]!.privateKey);
      const other = 1 - i;
      store.addRoute({ prefix: { address: MSNL[other]!, length: 32 }, host: LISTEN_HOST, port: PORTS[other]!, publicKey: keys?.[other]!.publicKey ?? null });
      for (const spec of TUNNEL_INTERFACES) {
        store.addMapping({ prefix: { address: ipOf(spec.index, other + 1), length: 32 }, msnlAddress: MSNL[other]! });
        store.setInterfaceAddress(spec.name, { address: ipOf(spec.index, i + 1), length: 24 }, true);
      }
      const daemon = new Daemon({
        store,
        underlay,
        openTun: (spec) => {
          const { device, peer } = createFakeTun(spec.name, { mtu: spec.mtu, offload: spec.index === 0 });
          peers[i]!.push(peer);
          return device;
        },
        log: createLogger('verbose', () => undefined),
        pollMs: 60_000,
      }) as Daemon<unknown>;
      daemons.push(daemon);
      await daemon.start();
    }
    peers[1]!.forEach((peer) => peer.onPacket((packet) => void peer.inject(echoReply(packet))));
    for (const peer of peers[0]!) peer.onPacket(() => void replies++);
    const over = (): boolean => performance.now() >= deadline || stopped();
    for (let round = 0; round < rounds && !over(); round++) {
      // On a keyed host every other round goes over plain routes (the routes re-read as msnl's edits are).
      if (keys !== null && round > 0) await setKeyed(stores, daemons, keys, round % 2 === 0);
      for (const spec of TUNNEL_INTERFACES) {
        const before = replies;
        peers[0]![spec.index]?.inject(echoRequest(ipOf(spec.index, 1), ipOf(spec.index, 2), spec.index, 84));
        while (replies === before && !over()) await turn();
      }
      for (const c of daemons[0]!.view.connections()) connections.add(c.conn);
      if (round + 1 === rounds) break;
      // Hang up, so the next round's pings set their calls up again (the call path, not only the data path).
      for (const c of [...daemons[0]!.view.connections()]) daemons[0]!.disconnect(c.conn);
      while ((daemons[0]!.view.connections().next().done !== true || daemons[1]!.view.connections().next().done !== true) && !over()) await turn();
    }
  } finally {
    for (const daemon of daemons) await daemon.stop();
    for (const store of stores) store.close();
  }
  return { replies, connections: connections.size, ms: performance.now() - started };
}

/** Makes both daemons' routes to each other keyed or plain, as an edit through msnl would. */
async function setKeyed(stores: Store[], daemons: Daemon<unknown>[], keys: KeyPair[], keyed: boolean): Promise<void> {
  for (const i of [0, 1]) {
    const other = 1 - i;
    const prefix = { address: MSNL[other]!, length: 32 };
    stores[i]!.delRoute(prefix);
    stores[i]!.addRoute({ prefix, host: LISTEN_HOST, port: PORTS[other]!, publicKey: keyed ? keys[other]!.publicKey : null });
    await daemons[i]!.applyChanges();
  }
}

/**
 * One route-MTU look-up (udp-native.ts pathLimit: a connected throwaway socket's IP_MTU), to
 * 127.0.0.1, nothing sent: the stand-in socket skips it, and a first call made the process's first
 * one on each side (about 100 us, where a later one takes 20-30). No addon: nothing to warm.
 */
function warmRouteMtu(): void {
  try {
    routeMtu(0x7f000001);
  } catch {
    // The addon did not load (msnld would not run either): nothing to warm.
  }
}

/** A warm-up running. */
export interface RunningWarmUp {
  /** Resolves when it has finished (and logged its line). */
  readonly done: Promise<void>;
  /** Ends it early (msnld stopping) and resolves once its hosts and daemons are gone. */
  stop(): Promise<void>;
}

/**
 * msnld's warm-up, started once its Daemon has started: warmup.ts's calls one per turn of the
 * event loop, then the whole-daemon pass, so peers' calls and control requests are answered
 * meanwhile (each waits for at most one throwaway call). msnld opens its control socket when this
 * is done or after WARM_UP_READY_MS; the rest runs on. Bounded: WARM_UP_LIMITS, then
 * WHOLE_DAEMONS_BUDGET_MS. One verbose line says what it did and how long it took. `eachTurn`
 * runs after each warm-up call: msnld's reaches the real path's first-call code that the throwaway
 * hosts cannot (an empty line through its own log writer, Daemon.pollNow on its real devices and
 * socket; bench/README.md "First reply, the real path").
 */
export function startWarmUp(keyed: boolean, log: Logger, rounds = WHOLE_DAEMONS_ROUNDS, eachTurn: () => void = () => undefined): RunningWarmUp {
  let stopped = false;
  const done = (async (): Promise<void> => {
    const calls = await warmUpInTurns(keyed, WARM_UP_LIMITS, () => stopped, eachTurn);
    let whole: string;
    try {
      const result = stopped ? undefined : await warmDaemons(keyed, WHOLE_DAEMONS_BUDGET_MS, () => stopped, rounds);
      whole = result === undefined ? 'not run (stopping)' : `${result.replies}/${rounds * TUNNEL_INTERFACES.length} pings in ${result.ms.toFixed(1)} ms`;
    } catch (error) {
      whole = `failed: ${causeOf(error)}`;
    }
    warmRouteMtu();
    log.verbose(`warm-up: ${calls.calls} calls${keyed ? ' (keyed and plain)' : ''} ${calls.ok ? 'done' : 'did not all complete'} in ${calls.ms.toFixed(1)} ms; whole daemons: ${whole}`);
  })();
  return {
    done,
    stop: () => {
      stopped = true;
      return done;
    },
  };
}
