// Warm-up: msnld's first calls used to run cold code. One in-process call between two bare
// endpoints (the earlier warm-up) left the manager, the tunnels, the mapping look-ups and the MM
// messages cold, and one run of a function is far from what V8 needs to compile it optimised.
// Two throwaway hosts wired as the Daemon wires its parts (warm-host.ts) make whole calls the way
// a first ping does: an ICMP echo request read from A's msN, the call it starts (mapping, route,
// MMUP_CONNECT, the connect request or the Noise initiation), B's manager accepting it (NEWCONN),
// the held packet sent on MMDOWN_CONNECTED, B's tunnel writing it and its reply read back, a
// second ping on the open connection (ms3's segmented), then the hang-up; on ms0..ms3 in turn,
// keyed and plain alternately when this host has a key. Calls repeat until `calls` are done or
// `budgetMs` has passed. Nothing leaves the process and nothing is left behind: no timer, socket
// or device. msnld runs it in turns of its event loop as it starts (warm-daemons.ts).
import { performance } from 'node:perf_hooks';
import { setImmediate as turn } from 'node:timers/promises';
import { internetChecksum } from '../abi/ipv4.js';
import { generateKeyPair } from '../crypto/primitives.js';
import { MemoryHub } from '../msdl/memory.js';
import { ipOf, WarmHost } from './warm-host.js';

const A = 0x7f000001;
const B = 0x7f000002;

export interface WarmUpLimits {
  /** Calls made at most. */
  readonly calls: number;
  /** No call starts after this many milliseconds from the warm-up's start. */
  readonly budgetMs: number;
}

/** Enough calls for the hot functions to be compiled optimised (V8 tiers a function up after
 *  hundreds of runs), bounded in time. */
export const WARM_UP_LIMITS: WarmUpLimits = { calls: 200, budgetMs: 1000 };

export interface WarmUpResult {
  /** Whether every call made carried its echo request and reply and every host ended with no connection. */
  readonly ok: boolean;
  readonly calls: number;
  readonly ms: number;
}

/**
 * The warm-up's hosts and calls: call() makes one whole call and hangs it up. Between calls nothing
 * is pending, so calls may run in separate turns of the event loop (warmUpInTurns).
 */
export class WarmCalls {
  private readonly hub = new MemoryHub({ clock: { now: () => performance.now() }, seed: 1, delayMs: 0, maxDatagram: 1472 });
  private readonly later: Array<() => void> = [];
  private readonly a: WarmHost;
  private readonly b: WarmHost;
  private readonly requests = [0, 1, 2, 3].map((index) => [84, index === 3 ? 4000 : 1400].map((size) => echoRequest(ipOf(index, 1), ipOf(index, 2), index, size)));
  private replies = 0;
  /** Routes are read at each call: when keyed, every other call goes over a plain route. */
  private plainCall: boolean;
  calls = 0;

  constructor(private readonly keyed: boolean) {
    const { hub, later } = this;
    this.plainCall = !keyed;
    const aKey = keyed ? generateKeyPair() : null;
    const bKey = keyed ? generateKeyPair() : null;
    this.a = new WarmHost(hub, 'a', A, 1, aKey, { name: 'b', msnl: B, host: 2, key: () => (this.plainCall || bKey === null ? 'none' : bKey.publicKey) }, later);
    const b = (this.b = new WarmHost(hub, 'b', B, 2, bKey, { name: 'a', msnl: A, host: 1, key: () => (this.plainCall || aKey === null ? 'none' : aKey.publicKey) }, later));
    b.peers.forEach((peer, index) => peer.onPacket((packet) => later.push(() => b.inject(index, echoReply(packet)))));
    for (const peer of this.a.peers) peer.onPacket(() => void this.replies++);
    // Configured peers, as msnld's routes make them: keyed calls start from the initiation and the
    // response ephemeral made ahead for the peer (after the turn, here `later`), as a first call does.
    if (aKey !== null && bKey !== null) {
      this.a.endpoint.preparePeers([bKey.publicKey]);
      b.endpoint.preparePeers([aKey.publicKey]);
    }
  }

  /** One call on the next interface: two pings and the hang-up. True when both replies came and the connection was released. */
  call(): boolean {
    const { a, b, keyed } = this;
    const n = this.calls++;
    this.plainCall = !keyed || n % 2 === 1;
    const index = (keyed ? n >> 1 : n) % 4;
    const before = this.replies;
    // As msnld's timers do between calls (and they make the next handshake's ephemeral keys).
    a.endpoint.tick();
    b.endpoint.tick();
    // Two packets: the first is held while the call is set up, the second takes the open connection.
    for (const packet of this.requests[index]!) {
      a.inject(index, packet);
      this.settle();
    }
    const carried = this.replies === before + 2 && a.connections === 1;
    a.manager.releaseAll(0);
    this.settle();
    return carried && a.connections + b.connections === 0;
  }

  /** Closes both hosts; true when neither holds a connection any more. */
  close(): boolean {
    this.a.close();
    this.b.close();
    this.settle();
    return [this.a, this.b].every((h) => h.connections === 0 && h.endpoint.connections().length === 0);
  }

  private settle(): void {
    for (let i = 0; i < 100 && (this.hub.inFlight > 0 || this.later.length > 0); i++) {
      this.hub.deliverDue();
      for (const run of this.later.splice(0)) run();
    }
  }
}

/** Runs the warm-up calls at once (keyed and plain alternately when `keyed`). Always returns, bounded in calls and time. */
export function warmUp(keyed: boolean, limits: WarmUpLimits = WARM_UP_LIMITS): WarmUpResult {
  const started = performance.now();
  const run = new WarmCalls(keyed);
  let ok = true;
  while (run.calls < limits.calls && performance.now() - started < limits.budgetMs) ok = run.call() && ok;
  ok = run.close() && ok && run.calls > 0;
  return { ok, calls: run.calls, ms: performance.now() - started };
}

/**
 * As warmUp, one call per turn of the event loop, so the daemon answers its sockets between them
 * (a call is 0.05-1 ms warm, a few ms cold). `stopped()` ends it early (msnld stopping).
 * `eachTurn` runs after each call (msnld: an empty line through its real log sink, warm-daemons.ts).
 */
export async function warmUpInTurns(keyed: boolean, limits: WarmUpLimits, stopped: () => boolean, eachTurn: () => void = () => undefined): Promise<WarmUpResult> {
  const started = performance.now();
  const run = new WarmCalls(keyed);
  let ok = true;
  while (run.calls < limits.calls && performance.now() - started < limits.budgetMs && !stopped()) {
    ok = run.call() && ok;
    eachTurn();
    await turn();
  }
  ok = run.close() && ok && run.calls > 0;
  return { ok, calls: run.calls, ms: performance.now() - started };
}

/** An IPv4 ICMP echo request of `size` octets from `src` to `dst`. */
export function echoRequest(src: number, dst: number, seq: number, size: number): Uint8Array {
  const p = new Uint8Array(size);
  const view = new DataView(p.buffer);
  p[0] = 0x45;
  view.setUint16(2, size);
  p[8] = 64;
  p[9] = 1;
  view.setUint32(12, src);
  view.setUint32(16, dst);
  view.setUint16(10, internetChecksum(p, 0, 20));
  p[20] = 8;
  view.setUint16(24, 0x4d53);
  view.setUint16(26, seq & 0xffff);
  view.setUint16(22, internetChecksum(p, 20, size - 20));
  return p;
}

/** The echo reply to an echo request (addresses swapped, type 0, checksums made again). */
export function echoReply(request: Uint8Array): Uint8Array {
  const p = new Uint8Array(request);
  const view = new DataView(p.buffer);
  const src = view.getUint32(12);
  view.setUint32(12, view.getUint32(16));
  view.setUint32(16, src);
  view.setUint16(10, 0);
  view.setUint16(10, internetChecksum(p, 0, 20));
  p[20] = 0;
  view.setUint16(22, 0);
  view.setUint16(22, internetChecksum(p, 20, p.length - 20));
  return p;
}
