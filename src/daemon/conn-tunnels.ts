// Which tunnel carries each connection, learnt from the manager-message channel as messages pass
// (only their type and connection id are read, no decoded object per message), so the packet path
// finds a connection's tunnel without asking the manager. Shared by the Daemon and the warm-up's
// hosts: one function literal, so the warm-up warms the code the Daemon runs.
import { MmType } from '../abi/constants.js';
import { mmConnOf, mmTypeOf } from '../abi/mm.js';
import { IdMap } from '../base/id-map.js';

/** What the channel needs of each side. */
export interface MmTunnel {
  onDown(message: Uint8Array): void;
}
export interface MmManager {
  onUp(message: Uint8Array): void;
}

export class ConnectionTunnels<T extends MmTunnel> {
  private readonly byConn = new IdMap<T>();

  /** The tunnel of `connId`, if it is open. */
  get(connId: number): T | undefined {
    return this.byConn.get(connId);
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
    if (mmTypeOf(message) === MmType.MMUP_DISCONNECT) this.byConn.delete(mmConnOf(message, MmType.MMUP_DISCONNECT));
  }

  /** A message on its way down to `tunnel`: connections start and end with it. */
  private sawDown(tunnel: T, message: Uint8Array): void {
    const type = mmTypeOf(message);
    switch (type) {
      case MmType.MMDOWN_NEWCONN:
      case MmType.MMDOWN_CONNECTED:
        this.byConn.set(mmConnOf(message, type), tunnel);
        break;
      case MmType.MMDOWN_DISCONNECT:
        this.byConn.delete(mmConnOf(message, type));
        break;
      case MmType.MMDOWN_FINAL:
        for (const [conn, owner] of this.byConn.entries()) if (owner === tunnel) this.byConn.delete(conn);
        break;
      default:
    }
  }
}
