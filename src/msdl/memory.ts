// The in-memory underlay for tests (wireguard-go's bindtest): a hub of N named nodes, datagrams
// delivered after a delay on an injected clock, with SEEDED loss, duplication and reordering, so a
// run is exactly repeatable. Drive it with deliverDue() and nextDeliveryAt(), or give it a scheduler
// for real timers. MemoryUnderlay names each node by its HOST:PORT, so a daemon's routes read like
// real ones; MSNL endpoint tests attach nodes directly.

import { octetsOf } from '../abi/bytes.js';
import { formatHostPort } from '../abi/endpoint.js';
import { randomUnit, seededRandom, type RandomSource } from '../base/random.js';
import type { Clock } from '../base/clock.js';
import { newDatagramCounters, type DatagramCounters, type ReceiveFunc, type Underlay, type UnderlayEvents, type UnderlaySocket } from './underlay.js';

/** The link value of the memory hub: one canonical object per node, so links compare with ===. */
export interface MemoryPeer {
  readonly name: string;
}

export interface MemoryHubOptions {
  readonly clock: Clock;
  readonly seed: number;
  /** Probability 0..1 that a datagram is lost. */
  readonly loss?: number;
  /** Probability 0..1 that a datagram is delivered twice. */
  readonly duplicate?: number;
  /** Probability 0..1 that a datagram is held back by up to reorderMs extra. */
  readonly reorder?: number;
  readonly reorderMs?: number;
  /** Base one-way delay (ms). */
  readonly delayMs?: number;
  readonly maxDatagram?: number;
  /** Called with the delay after which deliverDue() should run (for real timers); optional. */
  readonly schedule?: (delayMs: number) => void;
}

interface InFlight {
  readonly at: number;
  readonly order: number;
  readonly from: MemoryPeer;
  readonly to: string;
  readonly bytes: Uint8Array;
}

export class MemoryHub {
  loss: number;
  duplicate: number;
  reorder: number;
  readonly maxDatagram: number;
  readonly stats = { sent: 0, lost: 0, duplicated: 0, reordered: 0, delivered: 0, noSuchNode: 0, tooBig: 0, blackHoled: 0 };
  /** Per destination node: the largest datagram its path carries, and whether a larger one is
   *  refused with a report to the sender (false) or lost without a word (a black hole). */
  private readonly limits = new Map<string, { readonly maxDatagram: number; readonly silent: boolean }>();
  private readonly random: RandomSource;
  private readonly nodes = new Map<string, MemoryNode>();
  private readonly peers = new Map<string, MemoryPeer>();
  private queue: InFlight[] = [];
  private order = 0;

  constructor(private readonly options: MemoryHubOptions) {
    this.random = seededRandom(options.seed);
    this.loss = options.loss ?? 0;
    this.duplicate = options.duplicate ?? 0;
    this.reorder = options.reorder ?? 0;
    this.maxDatagram = options.maxDatagram ?? 1472;
  }

  /** The canonical link value naming node `name`. */
  peer(name: string): MemoryPeer {
    let peer = this.peers.get(name);
    if (peer === undefined) {
      peer = Object.freeze({ name });
      this.peers.set(name, peer);
    }
    return peer;
  }

  /** Adds a node and returns it. */
  attach(name: string): MemoryNode {
    if (this.nodes.has(name)) throw new Error(`failed to attach memory node: "${name}" exists`);
    const link = new MemoryNode(this, this.peer(name));
    this.nodes.set(name, link);
    return link;
  }

  detach(name: string): void {
    this.nodes.delete(name);
  }

  /** Limits the path to node `to` (undefined lifts it): larger datagrams are refused, or lost when silent. */
  limitPath(to: string, maxDatagram: number | undefined, silent = false): void {
    if (maxDatagram === undefined) this.limits.delete(to);
    else this.limits.set(to, { maxDatagram, silent });
  }

  /** @internal The path limit to node `to`, if any. */
  limitTo(to: string): { readonly maxDatagram: number; readonly silent: boolean } | undefined {
    return this.limits.get(to);
  }

  /** Datagrams in flight. */
  get inFlight(): number {
    return this.queue.length;
  }

  /** @internal Queues a copy of `bytes` from `from` to `to`, applying the seeded faults. */
  enqueue(from: MemoryPeer, to: string, bytes: Uint8Array): void {
    this.stats.sent++;
    if (randomUnit(this.random) < this.loss) {
      this.stats.lost++;
      return;
    }
    const now = this.options.clock.now();
    const base = this.options.delayMs ?? 1;
    let at = now + base;
    if (randomUnit(this.random) < this.reorder) {
      this.stats.reordered++;
      at += 1 + Math.floor(randomUnit(this.random) * (this.options.reorderMs ?? 20));
    }
    this.push(at, from, to, new Uint8Array(bytes)); // a copy: Buffer#slice would be a view
    if (randomUnit(this.random) < this.duplicate) {
      this.stats.duplicated++;
      this.push(at + 1 + Math.floor(randomUnit(this.random) * 5), from, to, new Uint8Array(bytes));
    }
  }

  /** When the next datagram is due, or Infinity. */
  nextDeliveryAt(): number {
    let next = Infinity;
    for (const d of this.queue) if (d.at < next) next = d.at;
    return next;
  }

  /** Delivers every datagram due by now, in due-time order; returns how many. */
  deliverDue(): number {
    const now = this.options.clock.now();
    const due = this.queue.filter((d) => d.at <= now);
    if (due.length === 0) return 0;
    this.queue = this.queue.filter((d) => d.at > now);
    due.sort((a, b) => a.at - b.at || a.order - b.order);
    for (const d of due) {
      const node = this.nodes.get(d.to);
      if (node === undefined) {
        this.stats.noSuchNode++;
        continue;
      }
      this.stats.delivered++;
      node.deliver(d.bytes, d.from);
    }
    return due.length;
  }

  private push(at: number, from: MemoryPeer, to: string, bytes: Uint8Array): void {
    this.queue.push({ at, order: this.order++, from, to, bytes });
    this.options.schedule?.(at - this.options.clock.now());
  }
}

/** One node of the hub: sends copies of datagrams to other nodes, receives whole datagrams. */
export class MemoryNode {
  readonly counters: DatagramCounters = newDatagramCounters();
  private handler: ((bytes: Uint8Array, from: MemoryPeer) => void) | undefined;
  private closed = false;
  /** Told when a datagram was refused by a path limit that reports (MemoryHub.limitPath). */
  tooBig: ((link: MemoryPeer, maxPayload: number) => void) | undefined;

  constructor(
    private readonly hub: MemoryHub,
    readonly self: MemoryPeer,
  ) {}

  /** Sends one datagram (copied before it returns). */
  send(link: MemoryPeer, bytes: Uint8Array): void {
    if (this.closed) {
      this.counters.sendErrors++;
      return;
    }
    if (bytes.length > this.hub.maxDatagram) {
      this.counters.oversize++;
      return;
    }
    const limit = this.hub.limitTo(link.name);
    if (limit !== undefined && bytes.length > limit.maxDatagram) {
      this.counters.oversize++;
      if (limit.silent) {
        this.hub.stats.blackHoled++;
        return;
      }
      this.hub.stats.tooBig++;
      this.tooBig?.(link, limit.maxDatagram);
      return;
    }
    this.counters.datagramsSent++;
    this.hub.enqueue(this.self, link.name, bytes);
  }

  /** Sets the handler every received datagram is given to. */
  onReceive(handler: (bytes: Uint8Array, from: MemoryPeer) => void): void {
    this.handler = handler;
  }

  /** @internal */
  deliver(bytes: Uint8Array, from: MemoryPeer): void {
    if (this.closed) return;
    this.counters.datagramsReceived++;
    this.handler?.(bytes, from);
  }

  async close(): Promise<void> {
    this.closed = true;
    this.hub.detach(this.self.name);
  }
}

/** The hub as an Underlay: open(host, port) attaches the node named `HOST:PORT`. */
export class MemoryUnderlay implements Underlay<MemoryPeer> {
  constructor(readonly hub: MemoryHub) {}

  async open(host: string, port: number, onReceive: ReceiveFunc<MemoryPeer>, events?: UnderlayEvents<MemoryPeer>): Promise<UnderlaySocket<MemoryPeer>> {
    const name = formatHostPort({ host, port });
    const node = this.hub.attach(name);
    node.tooBig = events?.tooBig;
    node.onReceive((bytes, from) => onReceive(bytes, 0, bytes.length, from));
    return {
      send: (to, buf, offset, length) => node.send(to, octetsOf(buf, offset, length)),
      close: () => node.close(),
      describe: () => name,
    };
  }

  link(host: string, port: number): MemoryPeer {
    return this.hub.peer(formatHostPort({ host, port }));
  }

  same(a: MemoryPeer, b: MemoryPeer): boolean {
    return a === b;
  }

  /** As UDP would put in front: 48 for a node named `[IPv6]:PORT`, else 28. */
  headerOctets(link: MemoryPeer): number {
    return link.name.startsWith('[') ? 48 : 28;
  }

  linkText(link: MemoryPeer): string {
    return link.name;
  }
}
