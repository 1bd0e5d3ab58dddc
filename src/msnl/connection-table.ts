// The endpoint's open connections: by local id (the data path's lookup), by the peer's id (a reset
// names the id the peer knows the connection by: found in O(1), not by walking every connection),
// the ids reserved for calls still being set up, and each connection's next timer deadline in a
// DeadlineHeap, so the timer loop visits only connections that are due. Ids are random u32s; the
// tables key them as signed 32-bit integers (`id | 0`, IdMap), which V8 keeps as small integers (a
// u32 above 2^31 is a heap number, hashed and compared several times slower): every probe, health
// sample and timer turn looks a connection up here. Pure.
import { IdMap } from '../base/id-map.js';
import type { Connection } from './connection.js';
import { DeadlineHeap, ownSlot } from './timers.js';

export class ConnectionTable<L> {
  private readonly byId = new IdMap<Connection<L>>();
  /** By the peer's connection id; two peers may pick the same id, hence a short list. */
  private readonly byRemote = new Map<number, Connection<L> | Connection<L>[]>();
  /** Ids allocated to outgoing calls not yet confirmed: traffic to them is dropped without a reset. */
  private readonly reserved = new Set<number>();
  /** Each connection keeps its place in this heap itself (Connection.heapIndex): no map per move. */
  readonly deadlines = new DeadlineHeap<Connection<L>>(ownSlot);

  get size(): number {
    return this.byId.size;
  }

  get(id: number): Connection<L> | undefined {
    return this.byId.get(id);
  }

  values(): IterableIterator<Connection<L>> {
    return this.byId.values();
  }

  /** A fresh id (never 0, never in use or reserved), reserved until add() or release(). */
  allocate(random: () => number): number {
    let id = random();
    while (id === 0 || this.byId.has(id) || this.reserved.has(id | 0)) id = random();
    this.reserved.add(id | 0);
    return id;
  }

  release(id: number): void {
    this.reserved.delete(id | 0);
  }

  isReserved(id: number): boolean {
    return this.reserved.has(id | 0);
  }

  /** Adds an open connection, due for its timers at `at`. */
  add(conn: Connection<L>, at: number): void {
    this.reserved.delete(conn.connId | 0);
    this.byId.set(conn.connId, conn);
    const remote = conn.remoteConnId | 0;
    const other = this.byRemote.get(remote);
    if (other === undefined) this.byRemote.set(remote, conn);
    else if (Array.isArray(other)) other.push(conn);
    else this.byRemote.set(remote, [other, conn]);
    this.deadlines.set(conn, at);
  }

  /** Removes a connection; false when it is not (or no longer) this table's. */
  delete(conn: Connection<L>): boolean {
    if (this.byId.get(conn.connId) !== conn) return false;
    this.byId.delete(conn.connId);
    const remote = conn.remoteConnId | 0;
    const other = this.byRemote.get(remote);
    if (other === conn) this.byRemote.delete(remote);
    else if (Array.isArray(other)) {
      const rest = other.filter((c) => c !== conn);
      this.byRemote.set(remote, rest.length === 1 ? (rest[0] as Connection<L>) : rest);
    }
    this.deadlines.delete(conn);
    return true;
  }

  /** The open connection the peer knows as `remoteConnId` that `match` accepts (its link, its framing). */
  byRemoteId(remoteConnId: number, match: (conn: Connection<L>) => boolean): Connection<L> | undefined {
    const found = this.byRemote.get(remoteConnId | 0);
    if (found === undefined) return undefined;
    if (!Array.isArray(found)) return match(found) ? found : undefined;
    return found.find(match);
  }
}
