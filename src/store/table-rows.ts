// The rows of the store's tables as better-sqlite3 returns them, the columns its statements read,
// and their conversion into the frozen objects the rest of msnld uses (store/types.ts).
import { interfaceByName } from '../abi/interfaces.js';
import { StoreError } from './errors.js';
import type { InterfaceConfig, Mapping, MappingOrigin, Route, RouteExit } from './types.js';

export interface MappingRow {
  network: number;
  length: number;
  msnl_address: number;
  comment: string;
  origin: MappingOrigin;
  created_at: number;
  expires_at: number | null;
}

export interface RouteRow {
  network: number;
  length: number;
  host: string;
  port: number;
  public_key: Uint8Array | null;
  origin: 'cli' | 'cluster';
  priority: number;
  mtu: number | null;
}

export const ROUTE_COLUMNS = 'network, length, host, port, public_key, origin, priority, mtu';

export interface InterfaceRow {
  name: string;
  address: number | null;
  prefix_length: number | null;
  admin_up: number;
}

export const MAPPING_COLUMNS = 'network, length, msnl_address, comment, origin, created_at, expires_at';
export const NOT_EXPIRED = '(expires_at IS NULL OR expires_at > @now)';

export function toMapping(row: MappingRow): Mapping {
  return Object.freeze({
    prefix: Object.freeze({ address: row.network, length: row.length }),
    msnlAddress: row.msnl_address,
    comment: row.comment,
    origin: row.origin,
    createdAt: row.created_at,
    expiresAt: row.expires_at,
  });
}

export function toRoute(row: RouteRow, more: readonly RouteExit[]): Route {
  return Object.freeze({
    prefix: Object.freeze({ address: row.network, length: row.length }),
    host: row.host,
    port: row.port,
    ...(row.priority !== 0 ? { priority: row.priority } : {}),
    ...(more.length > 0 ? { moreExits: Object.freeze(more) } : {}),
    ...(row.mtu !== null ? { mtu: row.mtu } : {}),
    publicKey: row.public_key === null ? null : new Uint8Array(row.public_key),
    ...(row.origin === 'cluster' ? { origin: row.origin } : {}),
  });
}

export function toInterface(row: InterfaceRow): InterfaceConfig {
  return Object.freeze({ name: row.name, address: row.address, prefixLength: row.prefix_length, adminUp: row.admin_up === 1 });
}

export function checkInterfaceName(name: string): void {
  if (interfaceByName(name) === undefined) throw new StoreError('invalid', `interface "${name}" does not exist (ms0..ms3)`);
}
