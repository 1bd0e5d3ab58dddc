// Which tunnel carries each connection, learnt from the manager-message channel as messages pass
// (only their type and connection id are read, no decoded object per message), so the packet path
// finds a connection's tunnel without asking the manager. Shared by the Daemon and the warm-up's
// hosts: one function literal, so the warm-up warms the code the Daemon runs.
import { MmType } from '../abi/constants.js';
import { mmConnOf, mmTypeOf } from '../abi/mm.js';

/** What the channel needs of each side. */
export interface MmTunnel {
  onDown(message: Uint8Array): void;
}
export interface MmManager {
  onUp(message: Uint8Array): void;
}

export class ConnectionTunnels<T extends MmTunnel> {
  /** Keyed by the id as a signed 32-bit integer (`id | 0`): V8 keeps those as small integers,
   *  where a random u32 above 2^31 (half of all ids) is a heap number, hashed several times slower
   *  (as ConnectionTable keys them). */
  private readonly byConn = new Map<number, T>();

  /** The tunnel of `connId`, if it is open. */
  get(connId: number): T | undefined {
    return this.byConn.get(connId | 0);
  }

  /** Passes `message` up to `manager`, noting the connection it ends. */
  up(manager: MmManager, message: Uint8Array): void {
    this.sawUp(message);
    manager.onUp(message);
  }

  /**
   * Passes `message` down to the tunnel of `sock` (1-based in `tunnels`), noting the connections
   * it starts and ends; returns that tunnel, or undefined when there is none (the message dropped).
   */
  down(tunnels: readonly T[], sock: number, message: Uint8Array): T | undefined {
    const tunnel = tunnels[sock - 1];
    if (tunnel === undefined) return undefined;
    this.sawDown(tunnel, message);
    tunnel.onDown(message);
    return tunnel;
  }

  /** A message on its way up to the manager: a tunnel's own disconnect ends its connection. */
  private sawUp(message: Uint8Array): void {
    if (mmTypeOf(message) === MmType.MMUP_DISCONNECT) this.byConn.delete(mmConnOf(message, MmType.MMUP_DISCONNECT) | 0);
  }

  /** A message on its way down to `tunnel`: connections start and end with it. */
  private sawDown(tunnel: T, message: Uint8Array): void {
    const type = mmTypeOf(message);
    switch (type) {
      case MmType.MMDOWN_NEWCONN:
      case MmType.MMDOWN_CONNECTED:
        this.byConn.set(mmConnOf(message, type) | 0, tunnel);
        break;
      case MmType.MMDOWN_DISCONNECT:
        this.byConn.delete(mmConnOf(message, type) | 0);
        break;
      case MmType.MMDOWN_FINAL:
        for (const [conn, owner] of this.byConn) if (owner === tunnel) this.byConn.delete(conn);
        break;
      default:
    }
  }
}
