// Two or more MSNL endpoints over the in-memory hub, on one fake clock, with recorded events.

import { MemoryHub, type MemoryPeer } from '../../src/msdl/memory.js';
import { MsnlEndpoint, type EndpointOptions } from '../../src/msnl/endpoint.js';
import { seededRandom } from '../../src/base/random.js';
import type { CallFailure, ConnectionInfo, EndpointConfig, IncomingCall } from '../../src/msnl/types.js';

export class FakeClock {
  constructor(public t = 10000) {}
  now(): number {
    return this.t;
  }
}

export interface Recorded {
  incoming: IncomingCall<MemoryPeer>[];
  connected: { handle: number | undefined; conn: ConnectionInfo<MemoryPeer> }[];
  failed: { handle: number; reason: CallFailure; code: number; redirect?: { address: number; port: number } }[];
  data: { connId: number; bytes: Uint8Array }[];
  disconnected: { connId: number; reason: number; byPeer: boolean }[];
  idle: number[];
  echoes: { ident: number; from: number; payload: Uint8Array; rttMs: number }[];
  cancelled: number[];
}

export interface Node {
  readonly name: string;
  readonly ep: MsnlEndpoint<MemoryPeer>;
  readonly rec: Recorded;
  /** What the manager does with incoming calls: 'accept', 'refuse', 'hold' (decide later). */
  policy: 'accept' | 'refuse' | 'hold';
  /** Decisions due later (async manager). */
  readonly decisions: { at: number; callId: number }[];
  decideDelayMs: number;
  /** Datagrams this node sent, when makeNode was asked to capture them. */
  readonly sent: { to: MemoryPeer; bytes: Uint8Array }[];
  /** Runs sent through transmitRun (makeNode with `runs`). */
  runs?: number;
}

/** Extra endpoint options for makeNode (keys), and whether to capture what the node sends. */
export type NodeExtras = Partial<Pick<EndpointOptions<MemoryPeer>, 'identity' | 'peerKeyOf' | 'wallClock' | 'aead' | 'wake' | 'exitsOf' | 'pathLimitOf' | 'pathKeyOf' | 'scheduleSeals' | 'scheduleIdle'>> & {
  capture?: boolean;
  /** Give the endpoint a transmitRun (as msnld's socket lends its send slab); counts the runs in node.runs. */
  runs?: boolean;
  authFailed?: (address: number, reason: string) => void;
  /** More underlay addresses of the node (hub names): datagrams to any of them reach its endpoint. */
  addresses?: readonly string[];
  /** The address (the node's name or one of `addresses`) a datagram to `to` leaves from, as a host's routing picks a source; default its name. */
  sourceFor?: (to: MemoryPeer) => string;
};

export function makeNode(hub: MemoryHub, clock: FakeClock, name: string, address: number, seed: number, config?: Partial<EndpointConfig>, extras: NodeExtras = {}): Node {
  const link = hub.attach(name);
  const links = new Map([[name, link], ...(extras.addresses ?? []).map((n) => [n, hub.attach(n)] as const)]);
  const rec: Recorded = { incoming: [], connected: [], failed: [], data: [], disconnected: [], idle: [], echoes: [], cancelled: [] };
  const transmit = (to: MemoryPeer, buf: Uint8Array, offset: number, length: number): void => {
    if (extras.capture === true) node.sent.push({ to, bytes: buf.slice(offset, offset + length) });
    (extras.sourceFor === undefined ? link : links.get(extras.sourceFor(to)) ?? link).send(to, buf.subarray(offset, offset + length));
  };
  const node: Node = {
    name, rec, policy: 'accept', decisions: [], decideDelayMs: 0, sent: [],
    ep: new MsnlEndpoint<MemoryPeer>({
      localAddress: address,
      clock,
      random: seededRandom(seed),
      transmit,
      ...(extras.runs === true ? {
        transmitRun: (to: MemoryPeer, count: number, stride: number, last: number, fill: (buf: Uint8Array, at: number) => boolean): boolean => {
          const slab = new Uint8Array(7 + (count - 1) * stride + last); // an odd start: no room in front of the first
          if (!fill(slab, 7)) return false;
          node.runs = (node.runs ?? 0) + 1;
          for (let i = 0, at = 7; i < count; i++, at += stride) transmit(to, slab, at, i < count - 1 ? stride : last);
          return true;
        },
      } : {}),
      config,
      ...(extras.identity !== undefined ? { identity: extras.identity } : {}),
      ...(extras.peerKeyOf !== undefined ? { peerKeyOf: extras.peerKeyOf } : {}),
      ...(extras.wallClock !== undefined ? { wallClock: extras.wallClock } : {}),
      ...(extras.aead !== undefined ? { aead: extras.aead } : {}),
      ...(extras.wake !== undefined ? { wake: extras.wake } : {}),
      ...(extras.exitsOf !== undefined ? { exitsOf: extras.exitsOf } : {}),
      ...(extras.pathLimitOf !== undefined ? { pathLimitOf: extras.pathLimitOf } : {}),
      ...(extras.pathKeyOf !== undefined ? { pathKeyOf: extras.pathKeyOf } : {}),
      ...(extras.scheduleSeals !== undefined ? { scheduleSeals: extras.scheduleSeals } : {}),
      ...(extras.scheduleIdle !== undefined ? { scheduleIdle: extras.scheduleIdle } : {}),
      events: {
        incomingCall: (call) => {
          rec.incoming.push(call);
          if (node.policy === 'hold') return;
          node.decisions.push({ at: clock.t + node.decideDelayMs, callId: call.callId });
        },
        connected: (handle, conn) => rec.connected.push({ handle, conn }),
        callFailed: (handle, reason, code, redirect) => rec.failed.push(redirect === undefined ? { handle, reason, code } : { handle, reason, code, redirect }),
        data: (connId, buf, offset, length) => rec.data.push({ connId, bytes: buf.slice(offset, offset + length) }),
        disconnected: (connId, reason, byPeer) => rec.disconnected.push({ connId, reason, byPeer }),
        idle: (connId) => rec.idle.push(connId),
        echoReply: (ident, from, payload, rttMs) => rec.echoes.push({ ident, from, payload: payload.slice(), rttMs }),
        callCancelled: (callId) => rec.cancelled.push(callId),
        authFailed: (addr, reason) => extras.authFailed?.(addr, reason),
      },
    }),
  };
  for (const l of links.values()) {
    l.onReceive((bytes, from) => node.ep.receive(bytes, from));
    l.tooBig = (to, maxPayload) => node.ep.pathTooBig(to, maxPayload);
  }
  return node;
}

/** Runs hub deliveries, manager decisions and endpoint timers until `done` or `maxMs` of fake time. */
export function run(hub: MemoryHub, clock: FakeClock, nodes: Node[], done: () => boolean, maxMs: number): boolean {
  const end = clock.t + maxMs;
  for (let steps = 0; steps < 1_000_000; steps++) {
    hub.deliverDue();
    for (const node of nodes) {
      for (let i = node.decisions.length - 1; i >= 0; i--) {
        const d = node.decisions[i]!;
        if (d.at > clock.t) continue;
        node.decisions.splice(i, 1);
        if (node.policy === 'refuse') node.ep.refuse(d.callId);
        else node.ep.accept(d.callId, 0xc0000200);
      }
      node.ep.tick();
    }
    if (done()) return true;
    let next = hub.nextDeliveryAt();
    for (const node of nodes) {
      next = Math.min(next, node.ep.nextDeadline());
      for (const d of node.decisions) next = Math.min(next, d.at);
    }
    if (next > end) {
      clock.t = end;
      return done();
    }
    clock.t = Math.max(clock.t, next);
  }
  return done();
}
