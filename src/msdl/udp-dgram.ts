// The UDP data link (node:dgram): MSNL datagrams over the IP underlay. The link value of a peer is
// { address, port }; received datagrams carry node's rinfo object as their link, so compare links
// with sameUdpPeer(). One send callback is shared by all sends (no per-packet closure).

import { createSocket, type RemoteInfo, type Socket } from 'node:dgram';
import { DEFAULT_MAX_DATAGRAM } from '../msnl/constants.js';
import { newDataLinkCounters, type DataLink, type DataLinkCounters, type ReceiveHandler } from './datalink.js';

export interface UdpPeer {
  readonly address: string;
  readonly port: number;
}

export interface UdpDataLinkOptions {
  /** Address to bind (e.g. 0.0.0.0 or 127.0.0.1). */
  readonly address: string;
  /** UDP port to bind; 0 picks a free one. */
  readonly port: number;
  readonly family?: 'udp4' | 'udp6';
  /** Largest UDP payload sent (default 1472: a 1500-octet underlay MTU). */
  readonly maxDatagram?: number;
  /** Socket buffer sizes in octets, when set. */
  readonly receiveBufferSize?: number;
  readonly sendBufferSize?: number;
  /** Called with send and socket errors (the link keeps running). */
  readonly onError?: (error: Error) => void;
}

export function sameUdpPeer(a: UdpPeer, b: UdpPeer): boolean {
  return a.port === b.port && a.address === b.address;
}

export class UdpDataLink implements DataLink<UdpPeer> {
  readonly batchSize = 64;
  readonly counters: DataLinkCounters = newDataLinkCounters();
  readonly maxDatagram: number;
  private handler: ReceiveHandler<UdpPeer> | undefined;
  private closed = false;
  private readonly onSent: (error: Error | null) => void;

  private constructor(
    private readonly socket: Socket,
    private readonly options: UdpDataLinkOptions,
  ) {
    this.maxDatagram = options.maxDatagram ?? DEFAULT_MAX_DATAGRAM;
    this.onSent = (error) => {
      if (error === null || error === undefined) return;
      this.counters.sendErrors++;
      this.options.onError?.(error);
    };
    socket.on('message', (msg: Buffer, rinfo: RemoteInfo) => {
      this.counters.datagramsReceived++;
      this.handler?.(msg, rinfo);
    });
    socket.on('error', (error) => this.options.onError?.(error));
  }

  /** Binds a UDP socket and resolves with the link, or rejects with the bind error. */
  static open(options: UdpDataLinkOptions): Promise<UdpDataLink> {
    const socket = createSocket({ type: options.family ?? 'udp4', reuseAddr: false });
    return new Promise((resolve, reject) => {
      const onError = (error: Error): void => {
        socket.close();
        reject(new Error(`failed to bind UDP ${options.address}:${options.port}: ${error.message}`, { cause: error }));
      };
      socket.once('error', onError);
      socket.bind(options.port, options.address, () => {
        socket.off('error', onError);
        if (options.receiveBufferSize !== undefined) socket.setRecvBufferSize(options.receiveBufferSize);
        if (options.sendBufferSize !== undefined) socket.setSendBufferSize(options.sendBufferSize);
        resolve(new UdpDataLink(socket, options));
      });
    });
  }

  /** The bound local address and port. */
  local(): UdpPeer {
    const { address, port } = this.socket.address();
    return { address, port };
  }

  send(link: UdpPeer, bytes: Uint8Array): void {
    if (this.closed) {
      this.counters.sendErrors++;
      return;
    }
    if (bytes.length > this.maxDatagram) {
      this.counters.oversize++;
      return;
    }
    this.counters.datagramsSent++;
    // node:dgram may keep a reference until the kernel takes the datagram, while senders reuse
    // their buffers as soon as send() returns (DataLink contract): hand it a copy.
    this.socket.send(Buffer.from(bytes), link.port, link.address, this.onSent);
  }

  sendBatch(link: UdpPeer, bufs: readonly Uint8Array[], count: number): void {
    for (let i = 0; i < count && i < bufs.length; i++) this.send(link, bufs[i]!);
  }

  onReceive(handler: ReceiveHandler<UdpPeer>): void {
    this.handler = handler;
  }

  close(): Promise<void> {
    if (this.closed) return Promise.resolve();
    this.closed = true;
    return new Promise((resolve) => this.socket.close(() => resolve()));
  }
}
