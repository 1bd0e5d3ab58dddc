// The daemon's event stream for `msnl monitor` (control request monitor=1): connection up/down,
// calls failed or refused, interfaces bound/unbound and reconciles, pushed as they happen by the
// manager and the daemon; plus tunnel health transitions, which the endpoint does not signal, so
// the daemon samples them (src/daemon/health-watch.ts). Emitting costs nothing while no monitor
// is connected.

import { formatDottedQuad } from '../abi/inet.js';
import type { EventKind, EventRow } from '../control/rows.js';
import type { ManagerEvent } from '../manager/manager.js';

type Listener = (event: EventRow) => void;
type EventFields = Partial<Omit<EventRow, 'event' | 'time_ms'>> & { event: EventKind };

export class DaemonEvents {
  private readonly listeners = new Set<Listener>();

  constructor(private readonly now: () => number = Date.now) {}

  /** Adds a listener; returns the function that removes it. */
  subscribe(listener: Listener): () => void {
    this.listeners.add(listener);
    return () => void this.listeners.delete(listener);
  }

  /** A complete row from the given fields (the rest null) at the current time. */
  row(fields: EventFields): EventRow {
    return { interface: null, connection: null, peer_ip: null, remote_address: null, state: null, reason: null, prefix: null, ...fields, time_ms: this.now() };
  }

  /** Whether any monitor listens (callers skip building an event nobody reads). */
  get listening(): boolean {
    return this.listeners.size > 0;
  }

  emit(fields: EventFields): void {
    if (this.listeners.size === 0) return;
    const row = this.row(fields);
    for (const listener of [...this.listeners]) listener(row);
  }

  /** Turns a manager event into a row; `interfaceOf` names the tunnel of a sock id. */
  fromManager(e: ManagerEvent, interfaceOf: (sock: number) => string | undefined): void {
    if (this.listeners.size === 0) return;
    const iface = e.sock === undefined ? null : (interfaceOf(e.sock) ?? null);
    switch (e.kind) {
      case 'up':
        return this.emit({ event: 'up', interface: iface, connection: e.conn, peer_ip: formatDottedQuad(e.peerIp), remote_address: formatDottedQuad(e.remoteMsnl) });
      case 'down':
        return this.emit({ event: 'down', interface: iface, connection: e.conn, peer_ip: formatDottedQuad(e.peerIp), remote_address: formatDottedQuad(e.remoteMsnl), reason: e.reason });
      case 'call_failed':
      case 'call_refused':
        return this.emit({ event: e.kind, interface: iface, remote_address: formatDottedQuad(e.remoteMsnl), reason: e.reason });
      case 'connect_refused':
        return this.emit({ event: 'connect_refused', interface: iface, peer_ip: formatDottedQuad(e.peerIp), reason: e.reason });
      case 'bound':
      case 'unbound':
        return this.emit({ event: e.kind, interface: iface });
    }
  }
}
