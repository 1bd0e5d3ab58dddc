// The control socket's view of a running daemon: renders live state as the control protocol's rows
// and carries out its actions (reload, disconnect, MSNL Echo).

import { formatDottedQuad } from '../abi/inet.js';
import { MmReason } from '../abi/constants.js';
import type { ControlHandler } from '../control/handler.js';
import { ControlError } from '../control/handler.js';
import { Errno } from '../control/protocol.js';
import type { ConnectionRow, HealthRow, InterfaceRow, PingReplyRow, StatusRow } from '../control/rows.js';
import type { Daemon } from './daemon.js';

export const VERSION = '0.1.0';

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
  ) {}

  status(): StatusRow {
    const d = this.daemon;
    const counters: Record<string, number> = {};
    for (const [name, value] of Object.entries(d.endpoint.counters)) counters[name.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`)] = value;
    counters.manager_refused_calls = d.manager.refusedCalls;
    counters.manager_bad_messages = d.manager.badMessages;
    counters.undeliverable = d.undeliverable;
    counters.reconciles = d.reconciles;
    const address = d.endpoint.localAddress;
    return {
      pid: process.pid,
      version: VERSION,
      uptime_s: Math.floor((this.now() - d.startedAt) / 1000),
      address: address === 0 ? null : formatDottedQuad(address),
      listen: d.listening ?? null,
      counters,
    };
  }

  interfaces(): InterfaceRow[] {
    return this.daemon.tunnels.map((tunnel, i) => {
      const device = this.daemon.devices[i];
      const inet = tunnel.inet;
      let adminUp = false;
      let operUp = false;
      try {
        const flags = device?.flags();
        adminUp = flags?.up ?? false;
        operUp = flags?.running ?? false;
      } catch {
        // A device that cannot be read shows as down.
      }
      const c = tunnel.counters;
      return {
        interface: tunnel.spec.name,
        mtu: tunnel.spec.mtu,
        port: tunnel.spec.port,
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

  connections(): ConnectionRow[] {
    const d = this.daemon;
    const rows: ConnectionRow[] = [];
    for (const c of d.manager.connections().values()) {
      const info = d.endpoint.connection(c.conn);
      if (info === undefined) continue;
      rows.push({
        connection: c.conn,
        interface: d.tunnels[c.sock - 1]?.spec.name ?? '?',
        peer_ip: formatDottedQuad(c.peerIp),
        local_sap: sap(info.local.address, info.local.port),
        remote_sap: sap(info.remote.address, info.remote.port),
        state: d.endpoint.health(c.conn)?.up === true ? 'up' : 'open',
        age_s: Math.max(0, Math.floor((this.now() - info.createdAt) / 1000)),
        rx_packets: info.rxPackets,
        rx_bytes: info.rxBytes,
        tx_packets: info.txPackets,
        tx_bytes: info.txBytes,
        initiator: c.initiator ? 'local' : 'remote',
      });
    }
    return rows.sort((a, b) => a.interface.localeCompare(b.interface) || a.connection - b.connection);
  }

  health(): HealthRow[] {
    const d = this.daemon;
    const rows: HealthRow[] = [];
    for (const c of d.manager.connections().values()) {
      const h = d.endpoint.health(c.conn);
      if (h === undefined) continue;
      rows.push({
        connection: c.conn,
        interface: d.tunnels[c.sock - 1]?.spec.name ?? '?',
        peer_ip: formatDottedQuad(c.peerIp),
        remote_address: formatDottedQuad(c.remoteMsnl),
        state: h.up ? 'up' : h.txProven || h.rxProven ? 'half' : 'down',
        tx_proven: h.txProven,
        rx_proven: h.rxProven,
        rtt_ms: h.rttMs < 0 ? null : round(h.rttMs),
        loss: round(h.lossRatio),
        last_heard_s: Number.isFinite(h.lastHeardMs) ? round(h.lastHeardMs / 1000, 1) : null,
      });
    }
    // Tunnels lost to a dead or restarted peer and being called again show as down.
    for (const tunnel of d.tunnels) {
      for (const lost of tunnel.lostPeers()) {
        const remote = d.msnlAddressOf(lost.peer);
        rows.push({
          connection: 0,
          interface: tunnel.spec.name,
          peer_ip: formatDottedQuad(lost.peer),
          remote_address: remote === undefined ? '0.0.0.0' : formatDottedQuad(remote),
          state: 'down',
          tx_proven: false,
          rx_proven: false,
          rtt_ms: null,
          loss: 1,
          last_heard_s: round((this.now() - lost.since) / 1000, 1),
        });
      }
    }
    return rows.sort((a, b) => a.interface.localeCompare(b.interface) || a.connection - b.connection);
  }

  async reload(): Promise<void> {
    await this.daemon.reconcile(true);
  }

  disconnect(id: number): void {
    if (!this.daemon.manager.connections().has(id)) throw new ControlError(Errno.ENOENT, `no connection ${id}`);
    this.daemon.manager.release(id, MmReason.NORMAL, true);
  }

  async ping(msnlAddress: number, count: number, intervalMs: number, onReply: (reply: PingReplyRow) => void, signal: AbortSignal): Promise<void> {
    const d = this.daemon;
    const link = d.linkOf(msnlAddress);
    if (link === undefined) throw new ControlError(Errno.EHOSTUNREACH, `no MSNL route to ${formatDottedQuad(msnlAddress)}`);
    const payload = new Uint8Array(56);
    const timeoutMs = d.endpoint.config.echoTimeoutMs;
    for (let seq = 1; (count === 0 || seq <= count) && !signal.aborted; seq++) {
      const started = this.now();
      const rtt = await new Promise<number | null>((resolve) => {
        const ident = d.endpoint.echo(msnlAddress, link, payload);
        const finish = (value: number | null): void => {
          clearTimeout(timer);
          signal.removeEventListener('abort', aborted);
          d.echoWaiters.delete(ident);
          resolve(value);
        };
        const aborted = (): void => finish(null);
        const timer = setTimeout(() => finish(null), timeoutMs);
        signal.addEventListener('abort', aborted);
        d.echoWaiters.set(ident, (rttMs) => finish(rttMs));
      });
      if (signal.aborted) return;
      onReply({ seq, rtt_ms: rtt === null ? null : round(rtt), bytes: payload.length });
      const wait = intervalMs - (this.now() - started);
      if ((count === 0 || seq < count) && wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
    }
  }
}
