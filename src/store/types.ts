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

export interface Route {
  /** MSNL address prefix (a single address is /32). */
  readonly prefix: Ipv4Prefix;
  readonly host: string;
  readonly port: number;
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
