// The daemon as the control socket and the health watch read it: read-only walks of its parts
// (tunnels, manager, endpoint, route tables, mapping table) that render nothing and change nothing.
// The control socket renders these (control-handler.ts) and never holds the daemon's parts.

import type { MsnlEndpoint } from '../msnl/endpoint.js';
import type { Manager } from '../manager/manager.js';
import type { Tunnel } from '../tunnel/tunnel.js';
import type { TunDevice } from '../tun/device.js';
import type { Underlay } from '../msdl/underlay.js';
import type { WatchedConnection } from './health-watch.js';
import type { RouteTables } from './route-tables.js';
import type { UnderlayBinding } from './underlay-binding.js';
import type { CallView, ConnectionView, DaemonCounters, InterfaceView, LostTunnelView } from './daemon-types.js';

/** What a view reads: the daemon's parts, and its own counters. */
export interface ViewedParts<L> {
  readonly endpoint: MsnlEndpoint<L>;
  readonly manager: Manager<L>;
  /** ms0..ms3 in order: a manager socket `sock` is `tunnels[sock - 1]`. */
  readonly tunnels: readonly Tunnel[];
  readonly devices: readonly TunDevice[];
  readonly routes: RouteTables<L>;
  readonly underlay: Underlay<L>;
  readonly binding: UnderlayBinding<L>;
  /** The MSNL address an IP maps to (the mapping table as of the last reconcile). */
  readonly msnlAddressOf: (ip: number) => number | undefined;
  /** The stored settings the command line overrides (--address, --listen). */
  readonly overrides: readonly string[];
  /** The daemon's own counters, next to the endpoint's and the manager's. */
  readonly own: () => { readonly undeliverable: number; readonly reconciles: number };
}

export class DaemonView<L> {
  constructor(private readonly parts: ViewedParts<L>) {}

  /** True when the route to an MSNL address has a key (secure MSNL). */
  isKeyed(msnlAddress: number): boolean {
    return this.parts.routes.keyOf(msnlAddress) instanceof Uint8Array;
  }

  /** The MSNL route to an address, for ping. */
  linkOf(msnlAddress: number): L | undefined {
    return this.parts.routes.linkOf(msnlAddress);
  }

  /** MSNL address an IP maps to, for display. */
  msnlAddressOf(ip: number): number | undefined {
    return this.parts.msnlAddressOf(ip);
  }

  /** The stored settings this daemon's command line overrides (--address, --listen). */
  get overrides(): readonly string[] {
    return this.parts.overrides;
  }

  get listening(): string | undefined {
    return this.parts.binding.describe();
  }

  get localAddress(): number {
    return this.parts.endpoint.localAddress;
  }

  /** The endpoint's counters and the daemon's own, by camelCase name. */
  counters(): DaemonCounters {
    const { endpoint, manager } = this.parts;
    return { ...endpoint.counters, managerRefusedCalls: manager.refusedCalls, managerBadMessages: manager.badMessages, ...this.parts.own() };
  }

  *interfaces(): IterableIterator<InterfaceView> {
    const { tunnels, devices } = this.parts;
    for (let i = 0; i < tunnels.length; i++) {
      const tunnel = tunnels[i]!;
      yield { spec: tunnel.spec, tunnel, device: devices[i] };
    }
  }

  /**
   * What the health watch samples every second: each connection's health, without its details;
   * `stillUp` skips the connections known to be up (the common case, read cheaply).
   */
  *watched(now: number, stillUp: (conn: number, now: number) => boolean): IterableIterator<WatchedConnection> {
    const { manager, endpoint } = this.parts;
    for (const c of manager.connections().values()) {
      if (stillUp(c.conn, now)) continue;
      const health = endpoint.health(c.conn);
      if (health === undefined) continue;
      yield { conn: c.conn, interfaceName: this.interfaceName(c.sock), peerIp: c.peerIp, remoteMsnl: c.remoteMsnl, health };
    }
  }

  /**
   * watched() for the given connection ids only (HealthWatch.due: those whose cached up time has
   * passed, and those not up); ids no longer held are skipped.
   */
  *watchedOnly(ids: Iterable<number>, now: number, stillUp: (conn: number, now: number) => boolean): IterableIterator<WatchedConnection> {
    const { manager, endpoint } = this.parts;
    const held = manager.connections();
    for (const id of ids) {
      const c = held.get(id);
      if (c === undefined || stillUp(c.conn, now)) continue;
      const health = endpoint.health(c.conn);
      if (health === undefined) continue;
      yield { conn: c.conn, interfaceName: this.interfaceName(c.sock), peerIp: c.peerIp, remoteMsnl: c.remoteMsnl, health };
    }
  }

  *connections(): IterableIterator<ConnectionView<L>> {
    for (const connId of this.parts.manager.connections().keys()) {
      const view = this.connection(connId);
      if (view !== undefined) yield view;
    }
  }

  /** One connection's view by id (the control socket walks ids in order); undefined when gone. */
  connection(connId: number): ConnectionView<L> | undefined {
    const { manager, endpoint, underlay } = this.parts;
    const c = manager.connections().get(connId);
    const info = c === undefined ? undefined : endpoint.connection(connId);
    if (c === undefined || info === undefined) return undefined;
    const exits = endpoint.exits(c.conn)?.map(({ link, ...rest }) => ({ ...rest, endpoint: underlay.linkText(link), headerOctets: underlay.headerOctets(link) }));
    return { conn: c.conn, interfaceName: this.interfaceName(c.sock), peerIp: c.peerIp, remoteMsnl: c.remoteMsnl, initiator: c.initiator, info, health: endpoint.health(c.conn), headerOctets: underlay.headerOctets(info.link), exits };
  }

  *calls(): IterableIterator<CallView> {
    for (const call of this.parts.manager.callRecords()) {
      yield { interfaceName: this.interfaceName(call.sock), peerIp: call.peerIp, remoteMsnl: call.remoteMsnl, port: call.port, state: call.state, since: call.since, reason: call.reason };
    }
  }

  *lostTunnels(): IterableIterator<LostTunnelView> {
    for (const tunnel of this.parts.tunnels) {
      for (const lost of tunnel.lostPeers()) {
        yield { interfaceName: tunnel.spec.name, peerIp: lost.peer, remoteMsnl: this.parts.msnlAddressOf(lost.peer), since: lost.since };
      }
    }
  }

  /** The interface a manager socket belongs to; `?` for none. */
  private interfaceName(sock: number): string {
    return this.parts.tunnels[sock - 1]?.spec.name ?? '?';
  }
}
