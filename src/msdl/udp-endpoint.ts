// UdpEndpoint, the link value of both UDP underlays: `{ address, port }` plus the IPv4 address as a
// number. UdpEndpoints hands out one frozen object per peer, so route links and the links of
// received datagrams compare by identity, and a known peer costs no allocation on receive.
import { formatDottedQuad, parseDottedQuad } from '../abi/inet.js';

export interface UdpEndpoint {
  /** The host as written in the route (IPv4, IPv6 or a name), or the sender's address. */
  readonly address: string;
  readonly port: number;
  /** The IPv4 address in host order, or -1 when `address` is a host name or IPv6. */
  readonly ipv4: number;
}

/** Same peer: the same object, or the same port and the same address (by text or IPv4 number). */
export function sameUdpEndpoint(a: UdpEndpoint, b: UdpEndpoint): boolean {
  return a === b || (a.port === b.port && (a.address === b.address || (a.ipv4 >= 0 && a.ipv4 === b.ipv4)));
}

/** Beyond this many peers of each kind, endpoints are made afresh (still equal by sameUdpEndpoint). */
const CACHE_LIMIT = 65536;
const DOTTED = /^[0-9.]+$/;

/** The canonical endpoint objects of one underlay. */
export class UdpEndpoints {
  private readonly byNumber = new Map<number, UdpEndpoint>();
  private readonly byName = new Map<string, UdpEndpoint>();
  private lastAddress = -1;
  private lastPort = -1;
  private lastEndpoint: UdpEndpoint | undefined;

  /** The endpoint of `host:port`: numeric for a dotted quad, otherwise keyed by the text. */
  named(host: string, port: number): UdpEndpoint {
    const key = `${host}|${port}`;
    let endpoint = this.byName.get(key);
    if (endpoint !== undefined) return endpoint;
    // The node:dgram receive path comes here per datagram: parse only what looks like a quad.
    const ipv4 = DOTTED.test(host) ? parseDottedQuad(host) : undefined;
    endpoint = typeof ipv4 === 'number' ? this.numeric(ipv4, port) : Object.freeze({ address: host, port, ipv4: -1 });
    if (this.byName.size < CACHE_LIMIT) this.byName.set(key, endpoint);
    return endpoint;
  }

  /** The endpoint of a numeric IPv4 peer (the receive path's lookup; the last one is remembered). */
  numeric(ipv4: number, port: number): UdpEndpoint {
    if (ipv4 === this.lastAddress && port === this.lastPort && this.lastEndpoint !== undefined) return this.lastEndpoint;
    const key = ipv4 * 65536 + port;
    let endpoint = this.byNumber.get(key);
    if (endpoint === undefined) {
      endpoint = Object.freeze({ address: formatDottedQuad(ipv4), port, ipv4 });
      if (this.byNumber.size < CACHE_LIMIT) this.byNumber.set(key, endpoint);
    }
    this.lastAddress = ipv4;
    this.lastPort = port;
    this.lastEndpoint = endpoint;
    return endpoint;
  }
}
