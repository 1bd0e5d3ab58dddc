// The control socket's view of a running daemon: renders live state as the control protocol's rows
// and carries out its actions (reload, disconnect, MSNL Echo).

import { formatDottedQuad } from '../abi/inet.js';
import type { ControlHandler } from '../control/handler.js';
import { ControlError } from '../control/handler.js';
import { Errno } from '../control/protocol.js';
import { formatExits, type ConnectionRow, type EventRow, type HealthRow, type InterfaceRow, type PingReplyRow, type StatusRow } from '../control/rows.js';
import type { CallView, Daemon } from './daemon.js';
import type { ConnectionView } from './daemon-types.js';
import { ascendingKeys, type KeyScan } from '../base/ascending.js';
import { reasonName } from '../msnl/constants.js';
import { VERSION } from '../base/version.js';
import type { MetricsSnapshot } from './metrics.js';

/** Connection ids looked up per scan of the connection table when streaming rows (64 KiB of ids). */
const ID_BATCH = 8192;

/** One interface of a reply: its name and which manager sockets its connections have. */
interface InterfaceGroup {
  readonly name: string;
  readonly holds: (sock: number) => boolean;
}

function sap(address: number, port: number): string {
  return `${formatDottedQuad(address)}:0x${port.toString(16).padStart(4, '0')}`;
}

function round(value: number, digits = 3): number {
  const f = 10 ** digits;
  return Math.round(value * f) / f;
}

export class DaemonControl<L> implements ControlHandler {
  constructor(
    private readonly daemon: Daemon<L>,
    private readonly now: () => number = Date.now,
    /** The database and control socket msnld uses, for `msnl status`. */
    private readonly paths: { readonly db?: string; readonly socket?: string } = {},
    /** The fleet watch's state for `msnl status` (msnld --cluster), when in a fleet. */
    private readonly fleet?: () => string,
  ) {}

  status(): StatusRow {
    const d = this.daemon;
    const counters: Record<string, number> = {};
    for (const [name, value] of Object.entries(d.view.counters())) counters[name.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`)] = value;
    const address = d.view.localAddress;
    return {
      pid: process.pid,
      version: VERSION,
      uptime_s: Math.floor((this.now() - d.startedAt) / 1000),
      msnl_address: address === 0 ? null : formatDottedQuad(address),
      listen: d.view.listening ?? null,
      db: this.paths.db ?? null,
      socket: this.paths.socket ?? null,
      overrides: d.view.overrides.length === 0 ? null : d.view.overrides.join(','),
      fleet: this.fleet?.() ?? null,
      counters,
    };
  }

  interfaces(): InterfaceRow[] {
    return [...this.daemon.view.interfaces()].map(({ spec, tunnel, device }) => {
      // The kernel's state as it is now (an `ip addr` change shows at once), else the tunnel's view.
      let inet = tunnel.inet;
      let adminUp = false;
      let operUp = false;
      try {
        const flags = device?.flags();
        adminUp = flags?.up ?? false;
        operUp = flags?.running ?? false;
        if (device !== undefined) inet = device.getAddress();
      } catch {
        // A device that cannot be read shows as down.
      }
      const c = tunnel.counters;
      return {
        interface: spec.name,
        mtu: spec.mtu,
        port: spec.port,
        address: inet === undefined ? null : `${formatDottedQuad(inet.address)}/${inet.prefixLength}`,
        admin_up: adminUp,
        oper_up: operUp,
        bound: tunnel.isBound,
        connections: tunnel.connectionCount,
        rx_packets: c.rxPackets,
        rx_bytes: c.rxBytes,
        tx_packets: c.txPackets,
        tx_bytes: c.txBytes,
        drops: c.totalDrops,
      };
    });
  }

  /**
   * The connection rows, made one at a time as the control server streams them (paced by the
   * client's reading): by interface name; in each, the calls (connection 0) then the connections
   * by id. No array of all rows is built: ids are walked in batches (base/ascending.ts), so a
   * reply's memory is bounded by the batch whatever the number of connections, and a connection
   * that comes or goes during a long reply is shown at most once.
   */
  *connections(): IterableIterator<ConnectionRow> {
    for (const group of this.groups()) {
      for (const call of this.daemon.view.calls()) if (call.interfaceName === group.name) yield this.callRow(call);
      for (const c of this.connectionsOn(group)) yield this.connectionRow(c);
    }
  }

  /**
   * The health rows, made lazily like connections(): by interface name; in each, the tunnels lost
   * and being called again, the hosts whose last call failed, then the connections by id. Only
   * the failed calls of one interface are indexed at a time (to pair them with lost tunnels).
   */
  *health(): IterableIterator<HealthRow> {
    for (const group of this.groups()) {
      // The last failed call to each host of this interface with no connection since.
      const failures = new Map<number, CallView>();
      for (const call of this.daemon.view.calls()) if (call.state === 'failed' && call.interfaceName === group.name) failures.set(call.remoteMsnl, call);
      // Tunnels lost to a dead or restarted peer and being called again show as down.
      for (const lost of this.daemon.view.lostTunnels()) {
        if (lost.interfaceName !== group.name) continue;
        const failed = lost.remoteMsnl === undefined ? undefined : failures.get(lost.remoteMsnl);
        if (lost.remoteMsnl !== undefined) failures.delete(lost.remoteMsnl);
        yield this.downRow(lost.interfaceName, lost.peerIp, lost.remoteMsnl, round((this.now() - lost.since) / 1000, 1), failed);
      }
      // A mapped destination whose last call failed is down, with the reason.
      for (const call of failures.values()) {
        yield this.downRow(call.interfaceName, call.peerIp, call.remoteMsnl, null, call);
      }
      failures.clear();
      for (const c of this.connectionsOn(group)) {
        const h = c.health;
        if (h === undefined) continue;
        yield {
          connection: c.conn,
          interface: c.interfaceName,
          peer_ip: formatDottedQuad(c.peerIp),
          remote_address: formatDottedQuad(c.remoteMsnl),
          state: h.up ? 'up' : h.txProven || h.rxProven ? 'half' : 'down',
          auth: c.info.authenticated ? 'key' : 'none',
          tx_proven: h.txProven,
          rx_proven: h.rxProven,
          rtt_ms: h.rttMs < 0 ? null : round(h.rttMs),
          loss: round(h.lossRatio),
          pmtu: h.maxDatagram + c.headerOctets,
          last_heard_s: Number.isFinite(h.lastHeardMs) ? round(h.lastHeardMs / 1000, 1) : null,
          reason: null,
          failed_s: null,
          exits: c.exits === undefined ? null : formatExits(c.exits.map((e) => ({
            endpoint: e.endpoint, priority: e.priority, state: e.state, rtt_ms: e.rttMs < 0 ? null : round(e.rttMs), loss: round(e.lossRatio), pmtu: e.maxDatagram + e.headerOctets,
          }))),
        };
      }
    }
  }

  /** The interfaces in reply order (by name), each with a test for its connections' socket; `?` holds the rest. */
  private groups(): InterfaceGroup[] {
    const names = [...this.daemon.view.interfaces()].map((view) => view.spec.name);
    const groups: InterfaceGroup[] = names.map((name, i) => ({ name, holds: (sock: number) => sock === i + 1 }));
    groups.push({ name: '?', holds: (sock: number) => sock < 1 || sock > names.length });
    return groups.sort((a, b) => a.name.localeCompare(b.name));
  }

  /** The connections of one interface by ascending id, looked up one at a time. */
  private *connectionsOn(group: InterfaceGroup): IterableIterator<ConnectionView<L>> {
    const manager = this.daemon.manager;
    const scan: KeyScan = (visit) => {
      for (const c of manager.connections().values()) if (group.holds(c.sock)) visit(c.conn);
    };
    for (const connId of ascendingKeys(scan, ID_BATCH)) {
      const view = this.daemon.view.connection(connId);
      if (view !== undefined) yield view;
    }
  }

  private connectionRow(c: ConnectionView<L>): ConnectionRow {
    const { info } = c;
    return {
      connection: c.conn,
      interface: c.interfaceName,
      peer_ip: formatDottedQuad(c.peerIp),
      local_sap: sap(info.local.address, info.local.port),
      remote_sap: sap(info.remote.address, info.remote.port),
      state: c.health?.up === true ? 'up' : 'open',
      auth: info.authenticated ? 'key' : 'none',
      age_s: Math.max(0, Math.floor((this.now() - info.createdAt) / 1000)),
      rx_packets: info.rxPackets,
      rx_bytes: info.rxBytes,
      tx_packets: info.txPackets,
      tx_bytes: info.txBytes,
      initiator: c.initiator ? 'local' : 'remote',
      pmtu: c.health === undefined ? null : c.health.maxDatagram + c.headerOctets,
      reason: null,
    };
  }

  /** A call in progress or failed, so a destination that cannot be reached is not invisible. */
  private callRow(call: CallView): ConnectionRow {
    const local = this.daemon.view.localAddress;
    return {
      connection: 0,
      interface: call.interfaceName,
      peer_ip: formatDottedQuad(call.peerIp),
      local_sap: sap(local, call.port),
      remote_sap: sap(call.remoteMsnl, call.port),
      state: call.state,
      auth: this.daemon.view.isKeyed(call.remoteMsnl) ? 'key' : 'none',
      age_s: Math.max(0, Math.floor((this.now() - call.since) / 1000)),
      rx_packets: 0,
      rx_bytes: 0,
      tx_packets: 0,
      tx_bytes: 0,
      initiator: 'local',
      pmtu: null,
      reason: call.reason === undefined ? null : reasonName(call.reason),
    };
  }

  /** A health row for a tunnel that is down with no connection: lost (being called again) or its last call failed. */
  private downRow(interfaceName: string, peerIp: number, remoteMsnl: number | undefined, lastHeardS: number | null, failed: CallView | undefined): HealthRow {
    return {
      connection: 0,
      interface: interfaceName,
      peer_ip: formatDottedQuad(peerIp),
      remote_address: remoteMsnl === undefined ? '0.0.0.0' : formatDottedQuad(remoteMsnl),
      state: 'down',
      auth: remoteMsnl !== undefined && this.daemon.view.isKeyed(remoteMsnl) ? 'key' : 'none',
      tx_proven: false,
      rx_proven: false,
      rtt_ms: null,
      loss: 1,
      pmtu: null,
      exits: null,
      last_heard_s: lastHeardS,
      ...this.failure(failed),
    };
  }

  private failure(call: CallView | undefined): Pick<HealthRow, 'reason' | 'failed_s'> {
    return call === undefined ? { reason: null, failed_s: null } : { reason: reasonName(call.reason ?? 0), failed_s: round((this.now() - call.since) / 1000, 1) };
  }

  /** Everything `msnld --metrics` exposes, read at once. */
  metrics(): MetricsSnapshot {
    const status = this.status();
    const interfaces = [...this.daemon.view.interfaces()].map(({ spec, tunnel }) => {
      const c = tunnel.counters;
      return { name: spec.name, bound: tunnel.isBound, connections: tunnel.connectionCount, rxPackets: c.rxPackets, rxBytes: c.rxBytes, txPackets: c.txPackets, txBytes: c.txBytes, drops: { ...c.drops } };
    });
    const setup = this.daemon.manager.callSetupMs;
    const callSetup = { bounds: setup.bounds.map((ms) => ms / 1000), cumulative: setup.cumulative(), sum: setup.sum / 1000, count: setup.count };
    return { version: status.version, uptimeS: status.uptime_s, counters: status.counters, interfaces, connections: [...this.connections()], health: [...this.health()], callSetup };
  }

  /** Streams the daemon's events (health transitions included: the daemon samples them) until `signal` aborts. */
  monitor(onEvent: (event: EventRow) => void, signal: AbortSignal): Promise<void> {
    const unsubscribe = this.daemon.events.subscribe(onEvent);
    return new Promise((resolve) => {
      const stop = (): void => {
        unsubscribe();
        resolve();
      };
      if (signal.aborted) stop();
      else signal.addEventListener('abort', stop, { once: true });
    });
  }

  async reload(): Promise<void> {
    await this.daemon.reconcile(true);
  }

  async sync(): Promise<void> {
    await this.daemon.applyChanges();
  }

  disconnect(id: number): void {
    if (!this.daemon.disconnect(id)) throw new ControlError(Errno.ENOENT, `no connection ${id}`);
  }

  async ping(msnlAddress: number, count: number, intervalMs: number, onReply: (reply: PingReplyRow) => void, signal: AbortSignal): Promise<void> {
    const d = this.daemon;
    const link = d.view.linkOf(msnlAddress);
    if (link === undefined) throw new ControlError(Errno.EHOSTUNREACH, `no MSNL route to ${formatDottedQuad(msnlAddress)}`);
    const payload = new Uint8Array(56);
    for (let seq = 1; (count === 0 || seq <= count) && !signal.aborted; seq++) {
      const started = this.now();
      const rtt = await d.echo(msnlAddress, link, payload, signal);
      if (signal.aborted) return;
      onReply({ seq, rtt_ms: rtt === null ? null : round(rtt), bytes: payload.length });
      const wait = intervalMs - (this.now() - started);
      if ((count === 0 || seq < count) && wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
    }
  }
}
