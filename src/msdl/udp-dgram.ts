// DgramUdpUnderlay: the underlay over node:dgram, one syscall, callback and Buffer per datagram.
// msnld uses it (through udp.ts) for an IPv6 listen address; IPv4 goes through NativeUdpUnderlay.
// Links are the canonical UdpEndpoints of this underlay; one send callback serves every send.
import { causeOf } from '../base/logger.js';
import { createSocket, type RemoteInfo, type Socket } from 'node:dgram';
import { isIP } from 'node:net';
import { octetsOf } from '../abi/bytes.js';
import { formatHostPort } from '../abi/endpoint.js';
import { UDP_PAYLOAD_1500 } from '../abi/inet.js';
import { UdpEndpoints, sameUdpEndpoint, udpEndpointText, udpPathKey, udpHeaderOctets, type UdpEndpoint } from './udp-endpoint.js';
import { newDatagramCounters, type DatagramCounters, type ReceiveFunc, type Underlay, type UnderlayLog, type UnderlaySocket } from './underlay.js';

export class DgramUdpUnderlay implements Underlay<UdpEndpoint> {
  constructor(
    private readonly log: UnderlayLog,
    /** Largest UDP payload sent (default 1472: a 1500-octet underlay MTU). */
    private readonly maxDatagram = UDP_PAYLOAD_1500,
    private readonly endpoints = new UdpEndpoints(),
  ) {}

  link(host: string, port: number): UdpEndpoint {
    return this.endpoints.named(host, port);
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

  /** Binds a udp6 socket for an IPv6 host, udp4 otherwise; rejects with the bind error. */
  open(host: string, port: number, onReceive: ReceiveFunc<UdpEndpoint>): Promise<DgramUdpSocket> {
    const socket = createSocket({ type: isIP(host) === 6 ? 'udp6' : 'udp4', reuseAddr: false });
    return new Promise((resolve, reject) => {
      const onError = (error: Error): void => {
        socket.close();
        reject(new Error(`failed to bind UDP ${formatHostPort({ host, port })}: ${error.message}`, { cause: error }));
      };
      socket.once('error', onError);
      socket.bind(port, host, () => {
        socket.off('error', onError);
        resolve(new DgramUdpSocket(socket, this.endpoints, this.maxDatagram, onReceive, this.log));
      });
    });
  }
}

/** A bound node:dgram socket. */
export class DgramUdpSocket implements UnderlaySocket<UdpEndpoint> {
  readonly counters: DatagramCounters = newDatagramCounters();
  private closed = false;
  private readonly onSent: (error: Error | null) => void;
  private readonly name: string;

  constructor(
    private readonly socket: Socket,
    endpoints: UdpEndpoints,
    private readonly maxDatagram: number,
    onReceive: ReceiveFunc<UdpEndpoint>,
    log: UnderlayLog,
  ) {
    this.onSent = (error) => {
      if (error === null || error === undefined) return;
      this.counters.sendErrors++;
      log.verbose(`failed to send datagram: ${causeOf(error)}`);
    };
    socket.on('message', (msg: Buffer, rinfo: RemoteInfo) => {
      this.counters.datagramsReceived++;
      onReceive(msg, 0, msg.length, endpoints.named(rinfo.address, rinfo.port));
    });
    socket.on('error', (error) => log.verbose(`failed to send datagram: ${causeOf(error)}`));
    const bound = socket.address();
    this.name = formatHostPort({ host: bound.address, port: bound.port });
  }

  send(link: UdpEndpoint, buf: Uint8Array, offset: number, length: number): void {
    if (this.closed) {
      this.counters.sendErrors++;
      return;
    }
    if (length > this.maxDatagram) {
      this.counters.oversize++;
      return;
    }
    this.counters.datagramsSent++;
    // node:dgram may keep a reference until the kernel takes the datagram, while senders reuse
    // their buffers as soon as send() returns: hand it a copy.
    this.socket.send(Buffer.from(octetsOf(buf, offset, length)), link.port, link.address, this.onSent);
  }

  describe(): string {
    return this.name;
  }

  close(): Promise<void> {
    if (this.closed) return Promise.resolve();
    this.closed = true;
    return new Promise((resolve) => this.socket.close(() => resolve()));
  }
}
