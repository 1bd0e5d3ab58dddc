// A real, in-memory ControlHandler for tests: rows are plain data the test sets, ping answers from
// a script of RTTs (null = timeout) on a real timer, and every call is recorded.
import { ControlError, type ControlHandler } from '../../src/control/handler.js';
import { Errno } from '../../src/control/protocol.js';
import type { ConnectionRow, HealthRow, InterfaceRow, PingReplyRow, StatusRow } from '../../src/control/rows.js';

export const SAMPLE_STATUS: StatusRow = {
  pid: 4242,
  version: '0.1.0',
  uptime_s: 3725,
  msnl_address: '128.232.65.42',
  listen: '0.0.0.0:7000',
  db: null,
  socket: null,
  counters: { rx_frames: 10, tx_frames: 12, dropped_bad: 1 },
};

export const SAMPLE_INTERFACE: InterfaceRow = {
  interface: 'ms0', mtu: 1500, port: 0x800, address: '10.77.0.1/24', admin_up: true, oper_up: true, bound: true,
  connections: 1, rx_packets: 3, rx_bytes: 252, tx_packets: 5, tx_bytes: 420, drops: 0,
};

export const SAMPLE_CONNECTION: ConnectionRow = {
  connection: 7, interface: 'ms0', peer_ip: '10.77.0.2', local_sap: '128.232.65.42:0x0800', remote_sap: '128.232.65.43:0x0800',
  state: 'open', auth: 'key', age_s: 12, rx_packets: 3, rx_bytes: 252, tx_packets: 5, tx_bytes: 420, initiator: 'local', pmtu: 1500, reason: null,
};

export const SAMPLE_HEALTH: HealthRow = {
  connection: 7, interface: 'ms0', peer_ip: '10.77.0.2', remote_address: '128.232.65.43', state: 'up', auth: 'key',
  tx_proven: true, rx_proven: true, rtt_ms: 1.25, loss: 0, pmtu: 1500, last_heard_s: 0.5, reason: null, failed_s: null, exits: null,
};

export class FakeHandler implements ControlHandler {
  status: () => StatusRow = () => SAMPLE_STATUS;
  interfaceRows: InterfaceRow[] = [SAMPLE_INTERFACE];
  connectionRows: ConnectionRow[] = [SAMPLE_CONNECTION];
  healthRows: HealthRow[] = [SAMPLE_HEALTH];
  /** RTT per request (null: timeout); cycles when count exceeds it. */
  pingScript: Array<number | null> = [0.5, null, 1.5];
  reloads = 0;
  disconnected: number[] = [];
  pingAborted = false;
  pingCalls: Array<{ address: number; count: number; intervalMs: number }> = [];

  interfaces(): InterfaceRow[] {
    return this.interfaceRows;
  }
  connections(): ConnectionRow[] {
    return this.connectionRows;
  }
  health(): HealthRow[] {
    return this.healthRows;
  }
  async reload(): Promise<void> {
    this.reloads++;
  }
  syncs = 0;
  async sync(): Promise<void> {
    this.syncs++;
  }
  disconnect(id: number): void {
    if (!this.connectionRows.some((c) => c.connection === id)) throw new ControlError(Errno.ENOENT, `no such connection ${id}`);
    this.disconnected.push(id);
  }
  async ping(address: number, count: number, intervalMs: number, onReply: (reply: PingReplyRow) => void, signal: AbortSignal): Promise<void> {
    this.pingCalls.push({ address, count, intervalMs });
    if (address === 0) throw new ControlError(Errno.EHOSTUNREACH, 'no route to MSNL address 0.0.0.0');
    for (let seq = 1; count === 0 || seq <= count; seq++) {
      if (signal.aborted) {
        this.pingAborted = true;
        return;
      }
      const rtt = this.pingScript[(seq - 1) % this.pingScript.length] ?? null;
      onReply({ seq, rtt_ms: rtt, bytes: 64 });
      if (count === 0 || seq < count) await new Promise((resolve) => setTimeout(resolve, intervalMs));
    }
  }
}
