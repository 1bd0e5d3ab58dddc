// The narrow edges the tunnel code stands on. Each is an interface so the same tunnel runs over a
// real TUN device and the MSNL endpoint in msnld, and over fakes in unit tests.

/** What the tunnel needs of a TUN device (src/tun implements it, and so does its fake). */
export interface TunnelDevice {
  /** Reads up to bufs.length packets, each at `offset`, sizes into `sizes`; returns the count (0 when none). */
  readBatch(bufs: Buffer[], sizes: Int32Array, offset: number): number;
  /** Writes one IP packet. Returns false when the device dropped it. */
  write(buf: Buffer, offset: number, length: number): boolean;
  /** Whether each read starts with a virtio_net_hdr (TUN offload; src/tunnel/tcp-offload.ts). */
  readonly vnetHeader: boolean;
  /** Writes a virtio_net_hdr and then the packet (vnetHeader devices). False when dropped. */
  writeWithHeader(header: Uint8Array, buf: Uint8Array, offset: number, length: number): boolean;
}

/** The MSNL data path: sends one packet on an established connection (headroom in front of offset). */
export interface DataSender {
  send(connId: number, buf: Buffer, offset: number, length: number): boolean;
}

/** Longest-prefix lookup of an IPv4 address to the MSNL address it maps to. */
export interface MappingLookup {
  msnlAddressOf(ip: number): number | undefined;
}

/** Sends one encoded manager message up to the manager half. */
export type MmUpSink = (message: Uint8Array) => void;
