// The desired-state rows the store hands out. Plain frozen objects: safe to share with the
// daemon's packet path, which never touches SQLite itself.
import type { Ipv4Prefix } from '../abi/inet.js';

export interface HostSettings {
  /** This host's default MSNL address; 0 means not set. */
  readonly msnlAddress: number;
  /** Underlay UDP listen address (IPv4, IPv6 or host name). */
  readonly listenHost: string;
  readonly listenPort: number;
  /** This host's X25519 public key (from the stored private key), or null without one. */
  readonly publicKey: Uint8Array | null;
}

export interface InterfaceConfig {
  /** ms0..ms3. */
  readonly name: string;
  /** The interface IPv4 address (host bits allowed), or null when it has none. */
  readonly address: number | null;
  readonly prefixLength: number | null;
  readonly adminUp: boolean;
}

export type MappingOrigin = 'cli' | 'import' | 'daemon' | 'cluster';

export interface Mapping {
  readonly prefix: Ipv4Prefix;
  readonly msnlAddress: number;
  readonly comment: string;
  readonly origin: MappingOrigin;
  /** Unix milliseconds. */
  readonly createdAt: number;
  /** Unix milliseconds, or null for a permanent entry. */
  readonly expiresAt: number | null;
}

export interface NewMapping {
  readonly prefix: Ipv4Prefix;
  readonly msnlAddress: number;
  readonly comment?: string;
  readonly origin?: MappingOrigin;
  /** Seconds from now; undefined for a permanent entry. */
  readonly lifetimeSeconds?: number;
  /** Source line, for import error messages. */
  readonly line?: number;
}

/** One underlay exit of a route: where the peer is reached, and how much it is preferred. */
export interface RouteExit {
  readonly host: string;
  readonly port: number;
  /** Lower is preferred (0..65535). */
  readonly priority: number;
}

/** At most this many exits per route (msnl(7) Exits). */
export const MAX_ROUTE_EXITS = 8;

export interface Route {
  /** MSNL address prefix (a single address is /32). */
  readonly prefix: Ipv4Prefix;
  /** The first exit. */
  readonly host: string;
  readonly port: number;
  /** The first exit's priority; absent: 0. */
  readonly priority?: number;
  /** The further exits, in the order given; absent: none. */
  readonly moreExits?: readonly RouteExit[];
  /** The path MTU pinned for the route's exits (`mtu N`, IP octets); absent or null: probed. */
  readonly mtu?: number | null;
  /** The peer's X25519 public key; null or absent: auth none (the plain, historic framing). */
  readonly publicKey?: Uint8Array | null;
  /** 'cluster' for a route learned from the fleet (msnld --cluster); absent for a local one. */
  readonly origin?: 'cluster';
}

/** One entry of the mapping change log: the prefix a write touched, or null for "anything". */
export interface MappingChange {
  readonly seq: number;
  readonly prefix: Ipv4Prefix | null;
}

/** The desired state without the mappings (msnld reads those apart, in pages and from the log). */
export type DesiredSettings = Omit<DesiredState, 'mappings'>;

/** The whole desired state at one instant, expired mappings left out. */
export interface DesiredState {
  readonly host: HostSettings;
  readonly interfaces: readonly InterfaceConfig[];
  readonly mappings: readonly Mapping[];
  readonly routes: readonly Route[];
  /** This host's X25519 private key, or null. Never printed, logged or sent on the control socket. */
  readonly privateKey: Uint8Array | null;
  /** The clock reading the snapshot was taken at (Unix milliseconds). */
  readonly takenAt: number;
}

/** Every exit of a route, the first one first. */
export function routeExits(route: Route): RouteExit[] {
  return [{ host: route.host, port: route.port, priority: route.priority ?? 0 }, ...(route.moreExits ?? [])];
}
