// A stand-in for the Daemon with N open connections, for measuring the control path alone: the
// real DaemonControl renders its rows and the real ControlServer streams them, but no MSNL peer
// exists. The table is kept as the manager keeps its own (one small object per connection in a
// Map keyed by random u32 ids, four interfaces), and each connection's view is made on demand as
// DaemonView.connection() makes it. Used by bench/conn-show.ts and test/control/large-reply.test.ts.
import type { Daemon } from '../src/daemon/daemon.js';
import type { ConnectionView } from '../src/daemon/daemon-types.js';

interface FakeConnection {
  readonly conn: number;
  readonly sock: number;
  readonly remoteMsnl: number;
  readonly peerIp: number;
  readonly initiator: boolean;
}

const INTERFACES = ['ms0', 'ms1', 'ms2', 'ms3'];

/** A Daemon (as far as DaemonControl reads it) with `count` connections; `now` is their clock. */
export function fakeDaemon(count: number, now: () => number = Date.now): Daemon<unknown> {
  const table = new Map<number, FakeConnection>();
  let x = 0x9e3779b9;
  const startedAt = now();
  for (let i = 0; table.size < count; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    const conn = x >>> 0;
    if (conn === 0 || table.has(conn)) continue;
    table.set(conn, { conn, sock: (i % INTERFACES.length) + 1, remoteMsnl: (0x80e90000 + i) >>> 0, peerIp: (0x0a090000 + i) >>> 0, initiator: i % 2 === 0 });
  }
  const connection = (connId: number): ConnectionView<unknown> | undefined => {
    const c = table.get(connId);
    if (c === undefined) return undefined;
    const info = {
      connId, remoteConnId: connId ^ 0x5a5a5a5a, role: 'originator' as const,
      local: { address: 0x80e80001, port: 0x800 + c.sock - 1 }, remote: { address: c.remoteMsnl, port: 0x800 + c.sock - 1 },
      localIpa: 0x0a000001, remoteIpa: c.peerIp, link: undefined, state: 'open' as const, createdAt: startedAt,
      rxPackets: connId & 0xffff, txPackets: connId & 0xfff, rxBytes: (connId & 0xffff) * 1400, txBytes: (connId & 0xfff) * 1400, authenticated: connId % 3 === 0,
    };
    const health = { up: true, txProven: true, rxProven: true, rttMs: 0.25 + (connId % 100) / 100, lossRatio: 0, lastHeardMs: connId % 2000, maxDatagram: 1472, pathPhase: 'done' as const };
    return { conn: c.conn, interfaceName: INTERFACES[c.sock - 1]!, peerIp: c.peerIp, remoteMsnl: c.remoteMsnl, initiator: c.initiator, info, health, headerOctets: 28, exits: undefined };
  };
  const view = {
    localAddress: 0x80e80001,
    listening: '0.0.0.0:1994',
    overrides: [] as string[],
    counters: () => ({ connections: table.size }),
    *interfaces() {
      for (const name of INTERFACES) yield { spec: { name, mtu: 1400, port: 0x800 }, tunnel: undefined, device: undefined };
    },
    connection,
    *connections() {
      for (const connId of table.keys()) {
        const view = connection(connId);
        if (view !== undefined) yield view;
      }
    },
    *calls() {},
    *lostTunnels() {},
    isKeyed: (address: number) => address % 3 === 0,
  };
  const fake = {
    startedAt,
    manager: { connections: (): ReadonlyMap<number, FakeConnection> => table },
    view,
  };
  return fake as unknown as Daemon<unknown>;
}
