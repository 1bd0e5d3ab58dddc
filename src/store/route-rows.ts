// The routes and route_exits tables' statements: a route written with its checks (one key of 32
// octets, at most MAX_ROUTE_EXITS exits, none twice, a local route replacing one from the fleet)
// and read back with its exits in order. Run inside the Store's transactions (store.ts).
import type BetterSqlite3 from 'better-sqlite3';
import { formatIpv4Prefix, type Ipv4Prefix } from '../abi/inet.js';
import { StoreError, isUniqueViolation } from './errors.js';
import { ROUTE_COLUMNS, toRoute, type RouteRow } from './table-rows.js';
import { MAX_ROUTE_EXITS, routeExits, type Route, type RouteExit } from './types.js';

export function insertRoute(db: BetterSqlite3.Database, route: Route): void {
  const text = formatIpv4Prefix(route.prefix);
  try {
    const key = route.publicKey ?? null;
    if (key !== null && key.length !== 32) throw new StoreError('invalid', 'a public key is 32 octets');
    // A local route wins over one learned from the fleet (src/store/fleet-store.ts).
    db.prepare("DELETE FROM routes WHERE network = ? AND length = ? AND origin = 'cluster'").run(route.prefix.address, route.prefix.length);
    const more = route.moreExits ?? [];
    if (more.length + 1 > MAX_ROUTE_EXITS) throw new StoreError('invalid', `a route has at most ${MAX_ROUTE_EXITS} exits`);
    const all = routeExits(route).map((e) => `${e.host}:${e.port}`);
    if (new Set(all).size !== all.length) throw new StoreError('invalid', `route ${text} names an exit twice`);
    db.prepare('INSERT INTO routes (network, length, host, port, public_key, priority, mtu) VALUES (?, ?, ?, ?, ?, ?, ?)')
      .run(route.prefix.address, route.prefix.length, route.host, route.port, key === null ? null : Buffer.from(key), route.priority ?? 0, route.mtu ?? null);
    const exit = db.prepare('INSERT INTO route_exits (network, length, position, host, port, priority) VALUES (?, ?, ?, ?, ?, ?)');
    more.forEach((e, i) => exit.run(route.prefix.address, route.prefix.length, i + 1, e.host, e.port, e.priority));
  } catch (error) {
    if (isUniqueViolation(error)) throw new StoreError('exists', `route ${text} already exists`);
    throw error;
  }
}

export function deleteRoute(db: BetterSqlite3.Database, prefix: Ipv4Prefix): void {
  const result = db.prepare('DELETE FROM routes WHERE network = ? AND length = ?').run(prefix.address, prefix.length);
  if (result.changes === 0) throw new StoreError('not-found', `route ${formatIpv4Prefix(prefix)} does not exist`);
}

/** Every route by prefix, each with its further exits in order. */
export function selectRoutes(db: BetterSqlite3.Database): Route[] {
  const more = new Map<string, RouteExit[]>();
  for (const e of db.prepare('SELECT network, length, host, port, priority FROM route_exits ORDER BY network, length, position').all() as Array<RouteExit & { network: number; length: number }>) {
    const key = `${e.network}/${e.length}`;
    const list = more.get(key) ?? [];
    list.push(Object.freeze({ host: e.host, port: e.port, priority: e.priority }));
    more.set(key, list);
  }
  return (db.prepare(`SELECT ${ROUTE_COLUMNS} FROM routes ORDER BY network, length`).all() as RouteRow[]).map((row) => toRoute(row, more.get(`${row.network}/${row.length}`) ?? []));
}

export function selectRoute(db: BetterSqlite3.Database, prefix: Ipv4Prefix): Route | undefined {
  const row = db.prepare(`SELECT ${ROUTE_COLUMNS} FROM routes WHERE network = ? AND length = ?`).get(prefix.address, prefix.length) as RouteRow | undefined;
  if (row === undefined) return undefined;
  const more = db.prepare('SELECT host, port, priority FROM route_exits WHERE network = ? AND length = ? ORDER BY position').all(prefix.address, prefix.length) as RouteExit[];
  return toRoute(row, more.map((e) => Object.freeze({ host: e.host, port: e.port, priority: e.priority })));
}
