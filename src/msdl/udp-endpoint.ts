// UdpEndpoint, the link value of the UDP underlays: `{ address, port }` plus the IPv4 address as a
// number, or the IPv6 address as 16 octets. UdpEndpoints hands out one frozen object per peer, so
// route links and the links of received datagrams compare by identity, and a known peer costs no
// allocation on receive (IPv4 by number, IPv6 by a hash of its octets).
import { formatDottedQuad, parseDottedQuad } from '../abi/inet.js';
import { formatIpv6, mappedIpv4, parseIpv6 } from '../abi/inet6.js';
import { formatHostPort } from '../abi/endpoint.js';

export interface UdpEndpoint {
  /** The host as written in the route (IPv4, IPv6 or a name), or the sender's address. */
  readonly address: string;
  readonly port: number;
  /** The IPv4 address in host order, or -1 when `address` is a host name or IPv6. */
  readonly ipv4: number;
  /** The 16 octets of an IPv6 address (not IPv4-mapped: those are IPv4), or null. */
  readonly ipv6: Uint8Array | null;
}

/** IPv4 and UDP headers: an MTU less these is the largest UDP payload. */
export const IPV4_UDP_HEADERS = 28;
/** IPv6 and UDP headers (no extension headers). */
export const IPV6_UDP_HEADERS = 48;

/** The header octets in front of a datagram to `endpoint`: a host name resolves to IPv4 (udp-native.ts). */
export function udpHeaderOctets(endpoint: UdpEndpoint): number {
  return endpoint.ipv6 !== null ? IPV6_UDP_HEADERS : IPV4_UDP_HEADERS;
}

/** `HOST:PORT`, an IPv6 host in brackets. */
export function udpEndpointText(endpoint: UdpEndpoint): string {
  return formatHostPort({ host: endpoint.address, port: endpoint.port });
}

/** Same peer: the same object, or the same port and the same address (by text or number). */
export function sameUdpEndpoint(a: UdpEndpoint, b: UdpEndpoint): boolean {
  return a === b || (a.port === b.port && (a.address === b.address || (a.ipv4 >= 0 && a.ipv4 === b.ipv4) || (a.ipv6 !== null && b.ipv6 !== null && sameOctets(a.ipv6, 0, b.ipv6))));
}

/** The path key of an endpoint (Underlay.pathKey): its IPv4 address, IPv6 address or host name, not its port. */
export function udpPathKey(e: UdpEndpoint): string | number {
  if (e.ipv4 >= 0) return e.ipv4;
  if (e.ipv6 !== null) return `6:${Buffer.from(e.ipv6.buffer, e.ipv6.byteOffset, 16).toString('hex')}`;
  return `n:${e.address}`;
}

function sameOctets(a: Uint8Array, offset: number, b: Uint8Array): boolean {
  for (let i = 0; i < 16; i++) if (a[offset + i] !== b[i]) return false;
  return true;
}

/** Beyond this many peers of each kind, endpoints are made afresh (still equal by sameUdpEndpoint). */
const CACHE_LIMIT = 65536;
const DOTTED = /^[0-9.]+$/;

/** The canonical endpoint objects of one underlay. */
export class UdpEndpoints {
  /** By address (as a signed 32-bit integer: V8 keeps it a small integer, where a u32 above 2^31
   *  or `address * 65536 + port` is a heap number, several times slower to hash), then by port. */
  private readonly byNumber = new Map<number, Map<number, UdpEndpoint>>();
  private numberCount = 0;
  private readonly byName = new Map<string, UdpEndpoint>();
  /** IPv6 peers by a hash of octets and port; a bucket holds the (rare) collisions. */
  private readonly byIpv6 = new Map<number, UdpEndpoint[]>();
  private ipv6Count = 0;
  private lastAddress = -1;
  private lastPort = -1;
  private lastEndpoint: UdpEndpoint | undefined;
  private last6: UdpEndpoint | undefined;

  /** The endpoint of `host:port`: numeric for a dotted quad or IPv6 address, otherwise keyed by the text. */
  named(host: string, port: number): UdpEndpoint {
    const key = `${host}|${port}`;
    let endpoint = this.byName.get(key);
    if (endpoint !== undefined) return endpoint;
    // The node:dgram receive path comes here per datagram: parse only what looks like a quad.
    const ipv4 = DOTTED.test(host) ? parseDottedQuad(host) : undefined;
    const ipv6 = ipv4 === undefined && host.includes(':') ? parseIpv6(host) : null;
    if (typeof ipv4 === 'number') endpoint = this.numeric(ipv4, port);
    else if (ipv6 !== null) endpoint = this.fromIpv6(ipv6, 0, port, host);
    else endpoint = Object.freeze({ address: host, port, ipv4: -1, ipv6: null });
    if (this.byName.size < CACHE_LIMIT) this.byName.set(key, endpoint);
    return endpoint;
  }

  /** The endpoint of a numeric IPv4 peer (the receive path's lookup; the last one is remembered). */
  numeric(ipv4: number, port: number): UdpEndpoint {
    if (ipv4 === this.lastAddress && port === this.lastPort && this.lastEndpoint !== undefined) return this.lastEndpoint;
    let ports = this.byNumber.get(ipv4 | 0);
    let endpoint = ports?.get(port);
    if (endpoint === undefined) {
      endpoint = Object.freeze({ address: formatDottedQuad(ipv4), port, ipv4, ipv6: null });
      if (this.numberCount < CACHE_LIMIT) {
        this.numberCount++;
        if (ports === undefined) this.byNumber.set(ipv4 | 0, (ports = new Map()));
        ports.set(port, endpoint);
      }
    }
    this.lastAddress = ipv4;
    this.lastPort = port;
    this.lastEndpoint = endpoint;
    return endpoint;
  }

  /** The endpoint of the IPv6 peer octets[offset, +16) (the receive path's lookup; IPv4-mapped
   *  ones are IPv4). `text` names a new one (default: its RFC 5952 form). */
  fromIpv6(octets: Uint8Array, offset: number, port: number, text?: string): UdpEndpoint {
    const last = this.last6;
    if (last !== undefined && last.port === port && sameOctets(octets, offset, last.ipv6 as Uint8Array)) return last;
    const ipv4 = mappedIpv4(octets, offset);
    if (ipv4 >= 0) return this.numeric(ipv4, port);
    let hash = port;
    for (let i = 0; i < 16; i++) hash = Math.imul(hash ^ (octets[offset + i] as number), 16777619);
    const key = hash >>> 0;
    const bucket = this.byIpv6.get(key);
    if (bucket !== undefined) {
      for (const e of bucket) {
        if (e.port === port && sameOctets(octets, offset, e.ipv6 as Uint8Array)) return (this.last6 = e);
      }
    }
    const own = octets.slice(offset, offset + 16);
    const endpoint: UdpEndpoint = Object.freeze({ address: text ?? formatIpv6(own), port, ipv4: -1, ipv6: own });
    if (this.ipv6Count < CACHE_LIMIT) {
      this.ipv6Count++;
      if (bucket === undefined) this.byIpv6.set(key, [endpoint]);
      else bucket.push(endpoint);
    }
    return (this.last6 = endpoint);
  }
}
