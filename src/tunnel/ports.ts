// The narrow edges the tunnel code stands on. Each is an interface so the same tunnel runs over a
// real TUN device and the MSNL endpoint in msnld, and over fakes in unit tests.

/** What the tunnel needs of a TUN device (src/tun implements it, and so does its fake). */
export interface TunnelDevice {
  /**
   * Reads up to bufs.length plain IP packets, each at `offset`, sizes into `sizes`; returns the
   * count (0 when none). TCP super-packets (offloading devices) are cut to `segmentLimit` octets.
   */
  readBatch(bufs: readonly Uint8Array[], sizes: Int32Array, offset: number, segmentLimit: number): number;
  /** Writes one IP packet (an offloading device may join it with the next). False when dropped. */
  /** `valid`: it came authenticated (TunDevice.write). */
  write(buf: Uint8Array, offset: number, length: number, valid?: boolean): boolean;
  /** Frames read that could not be turned into plain packets; cumulative. */
  readonly readDrops: number;
  /** Joined runs refused after write() had taken their packets; cumulative. */
  readonly runsRefused: number;
}

/** The MSNL data path: sends one packet on an established connection (headroom in front of offset). */
export interface DataSender {
  send(connId: number, buf: Uint8Array, offset: number, length: number): boolean;
}

/** Longest-prefix lookup of an IPv4 address to the MSNL address it maps to. */
export interface MappingLookup {
  msnlAddressOf(ip: number): number | undefined;
}

/** Sends one encoded manager message up to the manager half. */
export type MmUpSink = (message: Uint8Array) => void;
