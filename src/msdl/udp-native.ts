// NativeUdpUnderlay: msnld's underlay (through udp.ts), IPv4 or IPv6, over BatchUdpSocket
// (udp-batch.ts: recvmmsg/sendmmsg and UDP GSO/GRO through the addon). Links are the canonical
// UdpEndpoints of this underlay. A route to a host name resolves (IPv4) in the background; until
// it has, datagrams to it are dropped and counted as unresolved. An IPv6 link on an IPv4 socket
// is dropped as unresolved too. Datagrams go with DF; one the kernel refuses as too big (EMSGSIZE)
// becomes UnderlayEvents.tooBig with the route's MTU, which holds what ICMP taught it.
import { causeOf } from '../base/logger.js';
import { lookup } from 'node:dns/promises';
import { isIP } from 'node:net';
import { parseDottedQuad } from '../abi/inet.js';
import { routeMtu } from './udp-addon.js';
import { parseIpv6 } from '../abi/inet6.js';
import { BatchUdpSocket, type BatchUdpCounters, type BatchUdpOptions } from './udp-batch.js';
import { IPV4_UDP_HEADERS, IPV6_UDP_HEADERS, UdpEndpoints, sameUdpEndpoint, udpEndpointText, udpPathKey, udpHeaderOctets, type UdpEndpoint } from './udp-endpoint.js';

/** How long a route MTU answer is reused for new links to the same address (ms), and how many are kept. */
const ROUTE_MTU_CACHE_MS = 1000;
const ROUTE_MTU_CACHE_SIZE = 4096;
import { type ReceiveFunc, type Underlay, type UnderlayEvents, type UnderlayLog, type UnderlaySocket } from './underlay.js';

export { IPV4_UDP_HEADERS, IPV6_UDP_HEADERS };

/** SO_RCVBUF asked for when the tuning names none: room for a burst of 20 000 small datagrams
 *  (call or hang-up storms), each charged at about 1.3 KiB of kernel memory. */
export const DEFAULT_RECEIVE_BUFFER = 32 << 20;

/** The receive buffer as the kernel set it (it reports twice the request), and why when it is smaller. */
export function receiveBufferText(asked: number, got: number): string {
  const mib = (n: number): string => `${(n / 2 ** 20).toFixed(n < 2 ** 20 ? 2 : 0)} MiB`;
  if (got >= asked) return `receive buffer ${mib(got)}`;
  return `receive buffer ${mib(got)}, not the ${mib(asked)} asked: the kernel caps it at net.core.rmem_max unless msnld runs as root (SO_RCVBUFFORCE)`;
}

/** Socket tuning passed through to BatchUdpSocket. */
export type NativeUdpTuning = Pick<BatchUdpOptions, 'receiveBufferSize' | 'sendBufferSize' | 'receiveBatch' | 'slotSize' | 'queueLength' | 'queueBytes' | 'receiveRounds' | 'native' | 'segmentation' | 'coalescing'>;

/** An open native underlay socket, with the batch socket's counters. */
export interface NativeUnderlaySocket extends UnderlaySocket<UdpEndpoint> {
  readonly counters: BatchUdpCounters;
  /** 4, or 6 for an IPv6 (dual-stack when bound to ::) socket. */
  readonly family: 4 | 6;
  /** SO_RCVBUF / SO_SNDBUF as the kernel set them. */
  bufferSizes(): { receive: number; send: number };
}

export class NativeUdpUnderlay implements Underlay<UdpEndpoint> {
  /** Datagrams dropped because their link's host name has not resolved (or is IPv6). */
  unresolved = 0;
  private readonly resolved = new Map<string, number>();
  /** routeMtu answers by IPv4 address, and when they were asked (performance.now()). */
  private readonly routeMtus = new Map<number, { readonly mtu: number; readonly at: number }>();
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

  pathKey(link: UdpEndpoint): string | number {
    return udpPathKey(link);
  }

  headerOctets(link: UdpEndpoint): number {
    return udpHeaderOctets(link);
  }

  linkText(link: UdpEndpoint): string {
    return udpEndpointText(link);
  }

  /**
   * The route MTU towards the link's address less the IP and UDP headers (28, or 48 for IPv6),
   * or undefined (unresolved, no route, a fake socket). For IPv4 asked once a second per address
   * at most (a call storm from one host would otherwise cost four syscalls a call); a refusal to
   * that address forgets the answer.
   */
  pathLimit(link: UdpEndpoint): number | undefined {
    if (this.tuning.native !== undefined) return undefined;
    if (link.ipv6 !== null) return payloadOf(routeMtu(link.ipv6, 0), IPV6_UDP_HEADERS);
    const ipv4 = link.ipv4 >= 0 ? link.ipv4 : this.resolved.get(link.address);
    if (ipv4 === undefined) return undefined;
    const now = performance.now();
    const cached = this.routeMtus.get(ipv4);
    let mtu: number;
    if (cached !== undefined && now - cached.at < ROUTE_MTU_CACHE_MS) mtu = cached.mtu;
    else {
      mtu = routeMtu(ipv4);
      if (this.routeMtus.size >= ROUTE_MTU_CACHE_SIZE) this.routeMtus.clear();
      this.routeMtus.set(ipv4, { mtu, at: now });
    }
    return payloadOf(mtu, IPV4_UDP_HEADERS);
  }

  async open(host: string, port: number, onReceive: ReceiveFunc<UdpEndpoint>, events?: UnderlayEvents<UdpEndpoint>): Promise<NativeUnderlaySocket> {
    const address = await this.bindAddress(host, port);
    let reported = 0;
    // The receive slab stays as it is until the round's end: the receiver may keep datagrams till then.
    const burstEnd = events?.burstEnd;
    const held = burstEnd !== undefined;
    const socket = BatchUdpSocket.open({
      receiveBufferSize: DEFAULT_RECEIVE_BUFFER,
      ...this.tuning,
      address,
      port,
      onReceive: (buf, offset, length, from, fromPort, from6, from6Offset) =>
        onReceive(buf, offset, length, from >= 0 ? this.endpoints.numeric(from, fromPort) : this.endpoints.fromIpv6(from6, from6Offset, fromPort), held),
      ...(burstEnd !== undefined ? { onRoundEnd: burstEnd } : {}),
      onTooBig: (to, toPort, to6, to6Offset) => {
        if (events?.tooBig === undefined) return;
        // The kernel refused it against the MTU its route cache holds now: that MTU is the answer.
        const fake = this.tuning.native !== undefined;
        if (to >= 0) {
          this.routeMtus.delete(to);
          events.tooBig(this.endpoints.numeric(to, toPort), fake ? 0 : payloadOf(routeMtu(to), IPV4_UDP_HEADERS) ?? 0);
        } else events.tooBig(this.endpoints.fromIpv6(to6, to6Offset, toPort), fake ? 0 : payloadOf(routeMtu(to6, to6Offset), IPV6_UDP_HEADERS) ?? 0);
      },
      onError: (error) => {
        reported++;
        if (reported <= 10 || reported % 1000 === 0) this.log.verbose(`${error.message} (${reported} errors so far)`);
      },
    });
    const family = socket.family();
    const described = socket.describe();
    const asked = this.tuning.receiveBufferSize ?? DEFAULT_RECEIVE_BUFFER;
    const got = socket.bufferSizes().receive;
    return {
      counters: socket.counters,
      family,
      bufferSizes: () => socket.bufferSizes(),
      kind: `batched IPv${family}; ${receiveBufferText(asked, got)}`,
      send: (link, buf, offset, length) => {
        if (link.ipv6 !== null) {
          if (family === 4) this.unresolved++;
          else socket.send6(link.ipv6, 0, link.port, buf, offset, length);
          return;
        }
        let ipv4 = link.ipv4;
        if (ipv4 < 0) ipv4 = this.resolved.get(link.address) ?? -1;
        if (ipv4 < 0) {
          this.unresolved++;
          return;
        }
        socket.send(ipv4, link.port, buf, offset, length);
      },
      // IPv4 peers only (an IPv6 one goes one by one, through send6).
      sendRun: (link, count, stride, last, fill) => {
        if (link.ipv6 !== null) return null;
        const ipv4 = link.ipv4 >= 0 ? link.ipv4 : this.resolved.get(link.address) ?? -1;
        if (ipv4 < 0) return null;
        return socket.sendRun(ipv4, link.port, count, stride, last, fill);
      },
      sendSoon: () => socket.flushLone(),
      receivedAgo: () => socket.receivedAgo(),
      pollNow: () => socket.pollNow(),
      close: async () => socket.close(),
      describe: () => described,
    };
  }

  /** The resolved IPv4 address of a host name (host order), if it has one yet. */
  resolvedAddress(host: string): number | undefined {
    return this.resolved.get(host);
  }

  // The address to bind: a dotted quad as it is, IPv6 as its octets, a host name looked up (IPv4) once.
  private async bindAddress(host: string, port: number): Promise<number | Uint8Array> {
    const quad = parseDottedQuad(host);
    if (typeof quad === 'number') return quad;
    if (isIP(host) === 6) {
      const octets = parseIpv6(host);
      if (octets === null) throw new Error(`failed to open UDP socket [${host}]:${port}: not a plain IPv6 address (zone ids are not supported)`);
      return octets;
    }
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

// The largest UDP payload under a route MTU (or -errno), or undefined.
function payloadOf(mtu: number, headers: number): number | undefined {
  return mtu > headers ? mtu - headers : undefined;
}
