// NativeUdpUnderlay: msnld's IPv4 underlay (through udp.ts), over BatchUdpSocket (udp-batch.ts: recvmmsg/sendmmsg
// and UDP GSO/GRO through the addon). Links are the canonical UdpEndpoints of this underlay.
// A route to a host name resolves (IPv4) in the background; until it has, datagrams to it are
// dropped and counted as unresolved. Datagrams go with DF; one the kernel refuses as too big
// (EMSGSIZE) becomes UnderlayEvents.tooBig with the route's MTU, which holds what ICMP taught it.
import { causeOf } from '../base/logger.js';
import { lookup } from 'node:dns/promises';
import { isIP } from 'node:net';
import { parseDottedQuad } from '../abi/inet.js';
import { routeMtu } from './udp-addon.js';
import { BatchUdpSocket, type BatchUdpCounters, type BatchUdpOptions } from './udp-batch.js';
import { UdpEndpoints, sameUdpEndpoint, type UdpEndpoint } from './udp-endpoint.js';
import { type ReceiveFunc, type Underlay, type UnderlayEvents, type UnderlayLog, type UnderlaySocket } from './underlay.js';

/** IPv4 and UDP headers: an MTU less these is the largest UDP payload. */
export const IPV4_UDP_HEADERS = 28;

/** Socket tuning passed through to BatchUdpSocket. */
export type NativeUdpTuning = Pick<BatchUdpOptions, 'receiveBufferSize' | 'sendBufferSize' | 'receiveBatch' | 'slotSize' | 'queueLength' | 'queueBytes' | 'receiveRounds' | 'native' | 'segmentation' | 'coalescing'>;

/** An open native underlay socket, with the batch socket's counters. */
export interface NativeUnderlaySocket extends UnderlaySocket<UdpEndpoint> {
  readonly counters: BatchUdpCounters;
}

export class NativeUdpUnderlay implements Underlay<UdpEndpoint> {
  /** Datagrams dropped because their link's host name has not resolved (or is IPv6). */
  unresolved = 0;
  private readonly resolved = new Map<string, number>();
  private readonly resolving = new Set<string>();

  constructor(
    private readonly log: UnderlayLog,
    private readonly tuning: NativeUdpTuning = {},
    private readonly endpoints = new UdpEndpoints(),
  ) {}

  link(host: string, port: number): UdpEndpoint {
    const endpoint = this.endpoints.named(host, port);
    if (endpoint.ipv4 < 0) this.resolve(host);
    return endpoint;
  }

  same(a: UdpEndpoint, b: UdpEndpoint): boolean {
    return sameUdpEndpoint(a, b);
  }

  /** The route MTU towards the link's IPv4 address less 28, or undefined (unresolved, no route, a fake socket). */
  pathLimit(link: UdpEndpoint): number | undefined {
    const ipv4 = link.ipv4 >= 0 ? link.ipv4 : this.resolved.get(link.address);
    if (ipv4 === undefined || this.tuning.native !== undefined) return undefined;
    const mtu = routeMtu(ipv4);
    return mtu > IPV4_UDP_HEADERS ? mtu - IPV4_UDP_HEADERS : undefined;
  }

  async open(host: string, port: number, onReceive: ReceiveFunc<UdpEndpoint>, events?: UnderlayEvents<UdpEndpoint>): Promise<NativeUnderlaySocket> {
    const address = await this.bindAddress(host, port);
    let reported = 0;
    const socket = BatchUdpSocket.open({
      ...this.tuning,
      address,
      port,
      onReceive: (buf, offset, length, from, fromPort) => onReceive(buf, offset, length, this.endpoints.numeric(from, fromPort)),
      onTooBig: (to, toPort) => {
        if (events?.tooBig === undefined) return;
        // The kernel refused it against the MTU its route cache holds now: that MTU is the answer.
        const mtu = this.tuning.native === undefined ? routeMtu(to) : 0;
        events.tooBig(this.endpoints.numeric(to, toPort), mtu > IPV4_UDP_HEADERS ? mtu - IPV4_UDP_HEADERS : 0);
      },
      onError: (error) => {
        reported++;
        if (reported <= 10 || reported % 1000 === 0) this.log.verbose(`${error.message} (${reported} errors so far)`);
      },
    });
    const described = socket.describe();
    return {
      counters: socket.counters,
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

  /** The resolved IPv4 address of a host name (host order), if it has one yet. */
  resolvedAddress(host: string): number | undefined {
    return this.resolved.get(host);
  }

  // The IPv4 address to bind: a dotted quad as it is, a host name looked up once.
  private async bindAddress(host: string, port: number): Promise<number> {
    const quad = parseDottedQuad(host);
    if (typeof quad === 'number') return quad;
    if (isIP(host) === 6) throw new Error(`failed to open UDP socket [${host}]:${port}: the native underlay is IPv4 only`);
    let address: number | Error;
    try {
      address = parseDottedQuad((await lookup(host, { family: 4 })).address);
    } catch (error) {
      throw new Error(`failed to open UDP socket ${host}:${port}: cannot resolve ${host}: ${causeOf(error)}`);
    }
    if (typeof address !== 'number') throw new Error(`failed to open UDP socket ${host}:${port}: ${host} has no IPv4 address`);
    return address;
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
}
