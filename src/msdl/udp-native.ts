// The batched native underlay: the same contract and link shape as src/daemon/udp-underlay.ts
// (node:dgram), over BatchUdpSocket (src/msdl/udp-batch.ts: recvmmsg/sendmmsg through the msnl_tun
// addon). IPv4 only. Links are canonical frozen { address, port, ipv4 } objects, one per peer
// endpoint, so routes compare by identity and a known peer costs no allocation on receive. A route
// to a host name resolves (IPv4) in the background; until it has, datagrams to it are dropped and
// counted as unresolved.
import { lookup } from 'node:dns/promises';
import { isIP } from 'node:net';
import { formatDottedQuad, parseDottedQuad } from '../abi/inet.js';
import { BatchUdpSocket, type BatchUdpCounters, type BatchUdpOptions } from '../msdl/udp-batch.js';
import { causeOf, type Logger } from './logger.js';
import type { Underlay, UnderlaySocket } from './underlay.js';
import type { UdpLink } from './udp-underlay.js';

export interface NativeUdpLink extends UdpLink {
  /** The IPv4 address in host order, or -1 when `address` is a host name (or IPv6). */
  readonly ipv4: number;
}

/** Socket tuning passed through to BatchUdpSocket. */
export type NativeUdpTuning = Pick<BatchUdpOptions, 'receiveBufferSize' | 'sendBufferSize' | 'receiveBatch' | 'slotSize' | 'queueLength' | 'queueBytes' | 'receiveRounds' | 'native' | 'segmentation' | 'coalescing'>;

export interface NativeUnderlaySocket extends UnderlaySocket<NativeUdpLink> {
  readonly counters: BatchUdpCounters;
  /** The batch socket underneath (queue state, flush, buffer sizes). */
  readonly socket: BatchUdpSocket;
}

const CACHE_LIMIT = 65536;

export class NativeUdpUnderlay implements Underlay<NativeUdpLink> {
  /** Datagrams dropped because their link's host name has not resolved (or is IPv6). */
  unresolved = 0;
  private readonly byNumber = new Map<number, NativeUdpLink>();
  private readonly byName = new Map<string, NativeUdpLink>();
  private readonly resolved = new Map<string, number>();
  private readonly resolving = new Set<string>();
  private lastAddress = -1;
  private lastPort = -1;
  private lastLink: NativeUdpLink | undefined;

  constructor(
    private readonly log: Logger,
    private readonly tuning: NativeUdpTuning = {},
  ) {}

  link(host: string, port: number): NativeUdpLink {
    const ipv4 = parseDottedQuad(host);
    if (typeof ipv4 === 'number') return this.numeric(ipv4, port);
    const key = `${host}|${port}`;
    let link = this.byName.get(key);
    if (link === undefined) {
      link = Object.freeze({ address: host, port, ipv4: -1 });
      if (this.byName.size < CACHE_LIMIT) this.byName.set(key, link);
    }
    this.resolve(host);
    return link;
  }

  same(a: NativeUdpLink, b: NativeUdpLink): boolean {
    return a === b || (a.port === b.port && (a.address === b.address || (a.ipv4 >= 0 && a.ipv4 === b.ipv4)));
  }

  /** The canonical link of a numeric peer (the receive path's lookup). */
  numeric(ipv4: number, port: number): NativeUdpLink {
    if (ipv4 === this.lastAddress && port === this.lastPort && this.lastLink !== undefined) return this.lastLink;
    const key = ipv4 * 65536 + port;
    let link = this.byNumber.get(key);
    if (link === undefined) {
      link = Object.freeze({ address: formatDottedQuad(ipv4), port, ipv4 });
      if (this.byNumber.size < CACHE_LIMIT) this.byNumber.set(key, link);
    }
    this.lastAddress = ipv4;
    this.lastPort = port;
    this.lastLink = link;
    return link;
  }

  async open(host: string, port: number, onReceive: (buf: Uint8Array, offset: number, length: number, link: NativeUdpLink) => void): Promise<NativeUnderlaySocket> {
    let address = parseDottedQuad(host);
    if (typeof address !== 'number') {
      if (isIP(host) === 6) throw new Error(`failed to open UDP socket [${host}]:${port}: the native underlay is IPv4 only`);
      try {
        address = parseDottedQuad((await lookup(host, { family: 4 })).address);
      } catch (error) {
        throw new Error(`failed to open UDP socket ${host}:${port}: cannot resolve ${host}: ${causeOf(error)}`);
      }
      if (typeof address !== 'number') throw new Error(`failed to open UDP socket ${host}:${port}: ${host} has no IPv4 address`);
    }
    let reported = 0;
    const socket = BatchUdpSocket.open({
      ...this.tuning,
      address,
      port,
      onReceive: (buf, offset, length, from, fromPort) => onReceive(buf, offset, length, this.numeric(from, fromPort)),
      onError: (error) => {
        reported++;
        if (reported <= 10 || reported % 1000 === 0) this.log.verbose(`${causeOf(error)} (${reported} errors so far)`);
      },
    });
    const described = socket.describe();
    return {
      counters: socket.counters,
      socket,
      send: (link, buf, offset, length) => {
        let ipv4 = link.ipv4;
        if (ipv4 < 0) ipv4 = this.resolved.get(link.address) ?? -1;
        if (ipv4 < 0) {
          this.unresolved++;
          return;
        }
        socket.send(ipv4, link.port, buf, offset, length);
      },
      close: async () => socket.close(),
      describe: () => described,
    };
  }

  // Looks a host name up (IPv4) in the background; each link() call for it refreshes the answer.
  private resolve(host: string): void {
    if (this.resolving.has(host) || isIP(host) === 6) return;
    this.resolving.add(host);
    lookup(host, { family: 4 })
      .then(({ address }) => {
        const ipv4 = parseDottedQuad(address);
        if (typeof ipv4 === 'number') this.resolved.set(host, ipv4);
      })
      .catch((error: unknown) => this.log.error(`failed to resolve underlay host ${host}: ${causeOf(error)}`))
      .finally(() => this.resolving.delete(host));
  }

  /** The resolved IPv4 address of a host name (host order), if it has one yet. */
  resolvedAddress(host: string): number | undefined {
    return this.resolved.get(host);
  }
}
