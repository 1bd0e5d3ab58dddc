// What a tunnelling interface (tunnel.ts) is made with: its interface spec, the ports it talks
// through (device, data path, mappings, manager), its clock, and the sizes and limits it keeps.

import type { TunnelInterfaceSpec } from '../abi/interfaces.js';
import type { DataSender, MappingLookup, MmUpSink, TunnelDevice } from './ports.js';

export interface TunnelOptions {
  readonly spec: TunnelInterfaceSpec;
  readonly device: TunnelDevice;
  readonly data: DataSender;
  readonly mappings: MappingLookup;
  readonly up: MmUpSink;
  /** Octets reserved in front of each read packet for the MSNL data header. */
  readonly headroom: number;
  readonly now: () => number;
  /** Packets read per readable event. */
  readonly batch?: number;
  /** Packets queued per peer while its call is set up. */
  readonly pendingPerPeer?: number;
  /** How long a refused destination is answered with ICMP at once instead of a new call (ms). */
  readonly negativeCacheMs?: number;
  /**
   * IP octets one underlay datagram carries after the data header (default 1456). TCP
   * super-packets from an offloading device are cut into segments that fill whole datagrams.
   */
  readonly datagramPayload?: number;
}
