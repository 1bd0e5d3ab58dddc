// The data link under MSNL: carries whole datagrams to and from opaque underlay links `L`.
// Implementations: udp.ts (node:dgram, the default) and memory.ts (in-process, seeded faults).

export interface DataLinkCounters {
  datagramsSent: number;
  datagramsReceived: number;
  sendErrors: number;
  /** Datagrams refused because they were larger than maxDatagram. */
  oversize: number;
}

export type ReceiveHandler<L> = (bytes: Uint8Array, link: L) => void;

export interface DataLink<L> {
  /** Largest datagram (payload octets) this link carries. */
  readonly maxDatagram: number;
  /** Preferred number of datagrams per sendBatch call. */
  readonly batchSize: number;
  readonly counters: DataLinkCounters;
  /**
   * Sends one datagram. It consumes `bytes` before it returns (sends or copies them): callers,
   * the MSNL endpoint among them, rewrite their buffers as soon as send() returns.
   */
  send(link: L, bytes: Uint8Array): void;
  /** Sends `count` datagrams of `bufs` to one link. */
  sendBatch(link: L, bufs: readonly Uint8Array[], count: number): void;
  /** Sets the handler every received datagram is given to, one call per datagram. */
  onReceive(handler: ReceiveHandler<L>): void;
  /** Stops receiving and releases the link. Idempotent. */
  close(): Promise<void>;
}

export function newDataLinkCounters(): DataLinkCounters {
  return { datagramsSent: 0, datagramsReceived: 0, sendErrors: 0, oversize: 0 };
}
