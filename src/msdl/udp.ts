// UdpUnderlay: the UDP underlay msnld runs on. It opens an IPv4 address with the batched native
// socket (udp-native.ts) and an IPv6 one with node:dgram (udp-dgram.ts), so a listen address
// changed by a reload may switch family. Both share one UdpEndpoints table, so a route's link and
// the link of a datagram from that peer are the same object whichever socket is open.
import { isIP } from 'node:net';
import { DgramUdpUnderlay } from './udp-dgram.js';
import { UdpEndpoints, sameUdpEndpoint, type UdpEndpoint } from './udp-endpoint.js';
import { NativeUdpUnderlay, type NativeUdpTuning } from './udp-native.js';
import type { ReceiveFunc, Underlay, UnderlayEvents, UnderlayLog, UnderlaySocket } from './underlay.js';

export class UdpUnderlay implements Underlay<UdpEndpoint> {
  private readonly native: NativeUdpUnderlay;
  private readonly dgram: DgramUdpUnderlay;

  constructor(log: UnderlayLog, tuning: NativeUdpTuning = {}) {
    const endpoints = new UdpEndpoints();
    this.native = new NativeUdpUnderlay(log, tuning, endpoints);
    this.dgram = new DgramUdpUnderlay(log, undefined, endpoints);
  }

  /** The route link; a host name starts resolving for the native socket. */
  link(host: string, port: number): UdpEndpoint {
    return this.native.link(host, port);
  }

  same(a: UdpEndpoint, b: UdpEndpoint): boolean {
    return sameUdpEndpoint(a, b);
  }

  open(host: string, port: number, onReceive: ReceiveFunc<UdpEndpoint>, events?: UnderlayEvents<UdpEndpoint>): Promise<UnderlaySocket<UdpEndpoint>> {
    return isIP(host) === 6 ? this.dgram.open(host, port, onReceive) : this.native.open(host, port, onReceive, events);
  }

  pathLimit(link: UdpEndpoint): number | undefined {
    return this.native.pathLimit(link);
  }
}
