// The shapes the daemon is built from and shows the control socket: its options, counters and
// the read-only views of interfaces, connections, calls and lost tunnels.

import type { TunnelInterfaceSpec } from '../abi/interfaces.js';
import type { ConnectionInfo, EndpointConfig, EndpointCounters, Health } from '../msnl/types.js';
import type { Tunnel } from '../tunnel/tunnel.js';
import type { ExitInfo } from '../msnl/exits.js';
import type { TunDevice } from '../tun/device.js';
import type { AddrEventSource } from '../tun/addr-events.js';
import type { Store } from '../store/store.js';
import type { Logger } from '../base/logger.js';
import type { Underlay } from '../msdl/underlay.js';

export interface DaemonOptions<L> {
  readonly store: Store;
  readonly underlay: Underlay<L>;
  readonly openTun: (spec: TunnelInterfaceSpec) => TunDevice;
  readonly addrEvents?: AddrEventSource;
  readonly log: Logger;
  /** Wall clock, Unix milliseconds. */
  readonly now?: () => number;
  /** --address: overrides the stored default MSNL address. */
  readonly address?: number;
  /** --listen: overrides the stored underlay listen address. */
  readonly listen?: { readonly host: string; readonly port: number };
  readonly endpointConfig?: Partial<EndpointConfig>;
  /** An extra, faster poll of the store (ms; tests). By default the store is watched (inotify) and polled once a second. */
  readonly pollMs?: number;
  /** The shortest gap between two runs of the endpoint's timers (ms; default 20). They run when
   *  the earliest deadline comes, not at a fixed rate. */
  readonly tickMs?: number;
  /** Connection lines logged one by one per second before a storm is summarised (default 0: all). */
  readonly connectionLinesPerSecond?: number;
}

/** The endpoint's counters and the daemon's own. */
export interface DaemonCounters extends Readonly<EndpointCounters> {
  readonly managerRefusedCalls: number;
  readonly managerBadMessages: number;
  readonly undeliverable: number;
  readonly reconciles: number;
}

/** One tunnel interface as the control socket shows it. */
export interface InterfaceView {
  readonly spec: TunnelInterfaceSpec;
  readonly tunnel: Tunnel;
  readonly device: TunDevice | undefined;
}

/** One live connection as the control socket shows it. */
export interface ConnectionView<L> {
  readonly conn: number;
  readonly interfaceName: string;
  readonly peerIp: number;
  readonly remoteMsnl: number;
  readonly initiator: boolean;
  readonly info: ConnectionInfo<L>;
  readonly health: Health | undefined;
  /** The IP and UDP header octets on its current exit (28 IPv4, 48 IPv6): health's maxDatagram plus these is the path MTU. */
  readonly headerOctets: number;
  /** Its exits when its route has several (msnl(7) Exits), else undefined. */
  readonly exits: readonly ExitView[] | undefined;
}

/** One exit of a connection: its underlay endpoint as `HOST:PORT`, and what its probes found. */
export interface ExitView extends Omit<ExitInfo<unknown>, 'link'> {
  readonly endpoint: string;
  /** The IP and UDP header octets to it (28 IPv4, 48 IPv6): maxDatagram plus these is its path MTU. */
  readonly headerOctets: number;
}

/** A call in progress, or the last failed call to a host with no connection since. */
export interface CallView {
  readonly interfaceName: string;
  readonly peerIp: number;
  readonly remoteMsnl: number;
  /** The MSNL port called (the interface's tunnelling port). */
  readonly port: number;
  readonly state: 'calling' | 'failed';
  /** When the call started (calling) or failed (failed), Unix ms. */
  readonly since: number;
  /** msnl(7) reason code of a failed call. */
  readonly reason: number | undefined;
}

/** A tunnel whose peer was lost and is being called again. */
export interface LostTunnelView {
  readonly interfaceName: string;
  readonly peerIp: number;
  readonly remoteMsnl: number | undefined;
  readonly since: number;
}
