// The node:dgram underlay (src/msdl/udp.ts), which msnld uses for IPv6 listen addresses; IPv4
// goes through the native batched socket (udp-native-underlay.ts). Route links are canonical
// { address, port } objects; received datagrams carry node's rinfo, compared by sameUdpPeer.

import { isIP } from 'node:net';
import { octetsOf } from '../abi/bytes.js';
import { ArgumentError } from '../abi/inet.js';
import { UdpDataLink, sameUdpPeer } from '../msdl/udp.js';
import { causeOf, type Logger } from '../base/logger.js';
import type { Underlay, UnderlaySocket } from './underlay.js';

export interface UdpLink {
  readonly address: string;
  readonly port: number;
}

/** Parses `HOST:PORT` (IPv4 or a name; `[v6]:PORT` for IPv6). */
export function parseHostPort(text: string): { host: string; port: number } | ArgumentError {
  const match = /^(?:\[([0-9a-fA-F:.]+)\]|([^:\s]+)):([0-9]{1,5})$/.exec(text);
  if (match === null) return new ArgumentError(text, 'expected HOST:PORT');
  const port = Number(match[3]);
  if (port < 1 || port > 65535) return new ArgumentError(text, `port ${port} is not 1..65535`);
  return { host: (match[1] ?? match[2]) as string, port };
}

export class UdpUnderlay implements Underlay<UdpLink> {
  private readonly links = new Map<string, UdpLink>();

  constructor(private readonly log: Logger) {}

  link(host: string, port: number): UdpLink {
    const key = `${host}|${port}`;
    let link = this.links.get(key);
    if (link === undefined) {
      link = Object.freeze({ address: host, port });
      if (this.links.size < 65536) this.links.set(key, link);
    }
    return link;
  }

  same(a: UdpLink, b: UdpLink): boolean {
    return sameUdpPeer(a, b);
  }

  async open(host: string, port: number, onReceive: (buf: Uint8Array, offset: number, length: number, link: UdpLink) => void): Promise<UnderlaySocket<UdpLink>> {
    const link = await UdpDataLink.open({
      address: host,
      port,
      family: isIP(host) === 6 ? 'udp6' : 'udp4',
      onError: (error) => this.log.verbose(`failed to send datagram: ${causeOf(error)}`),
    });
    link.onReceive((bytes, from) => onReceive(bytes, 0, bytes.length, from));
    const bound = link.local();
    return {
      send: (to, buf, offset, length) => link.send(to, octetsOf(buf, offset, length)),
      close: () => link.close(),
      describe: () => (isIP(bound.address) === 6 ? `[${bound.address}]:${bound.port}` : `${bound.address}:${bound.port}`),
    };
  }
}
