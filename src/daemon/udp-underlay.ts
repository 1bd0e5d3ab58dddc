// The real underlay: one UDP socket (node:dgram) at the listen address. Links are canonical
// { address, port } objects, one per peer endpoint, so routes compare by identity and the
// receive path does not allocate a new link per datagram for a known peer.

import dgram from 'node:dgram';
import { isIP } from 'node:net';
import { ArgumentError } from '../abi/inet.js';
import { causeOf, type Logger } from './logger.js';
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

/** Send slots: node:dgram keeps a reference to a datagram it could not send at once, while the
 *  callers reuse their buffers, so each datagram is copied once into a slot of this ring. */
const SLOTS = 4096;
const SLOT_SIZE = 65536;

export class UdpUnderlay implements Underlay<UdpLink> {
  private readonly links = new Map<string, UdpLink>();
  private readonly ring = Buffer.allocUnsafe(SLOTS * 2048);
  private next = 0;
  private inFlight = 0;
  sendErrors = 0;
  sendDrops = 0;

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
    return a === b || (a.port === b.port && a.address === b.address);
  }

  open(host: string, port: number, onReceive: (bytes: Uint8Array, link: UdpLink) => void): Promise<UnderlaySocket<UdpLink>> {
    const socket = dgram.createSocket({ type: isIP(host) === 6 ? 'udp6' : 'udp4', reuseAddr: false, recvBufferSize: 4 << 20, sendBufferSize: 4 << 20 });
    socket.on('message', (msg, rinfo) => onReceive(msg, this.link(rinfo.address, rinfo.port)));
    const onSent = (error: Error | null): void => {
      this.inFlight--;
      if (error === null) return;
      this.sendErrors++;
      if (this.sendErrors <= 10 || this.sendErrors % 1000 === 0) this.log.verbose(`failed to send datagram: ${causeOf(error)} (${this.sendErrors} so far)`);
    };
    return new Promise((resolve, reject) => {
      socket.once('error', reject);
      socket.bind(port, host, () => {
        socket.off('error', reject);
        socket.on('error', (error) => this.log.error(`failed to use underlay socket: ${causeOf(error)}`));
        const bound = socket.address();
        resolve({
          send: (link, bytes) => {
            if (this.inFlight >= SLOTS || bytes.length > SLOT_SIZE) {
              this.sendDrops++;
              return;
            }
            // Datagrams up to 2048 octets go through the ring; larger ones (rare: signalling never
            // is, data is segmented to the underlay MTU) are copied into a buffer of their own.
            let copy: Buffer;
            if (bytes.length <= 2048) {
              copy = this.ring.subarray(this.next * 2048, this.next * 2048 + bytes.length);
              this.next = (this.next + 1) % SLOTS;
            } else {
              copy = Buffer.allocUnsafe(bytes.length);
            }
            copy.set(bytes);
            this.inFlight++;
            socket.send(copy, link.port, link.address, onSent);
          },
          close: () => new Promise<void>((done) => socket.close(() => done())),
          describe: () => `${bound.address}:${bound.port}`,
        });
      });
    });
  }
}
