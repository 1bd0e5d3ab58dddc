// Which tunnel carries each connection, learnt from the manager-message channel as messages pass
// (only their type and connection id are read, no decoded object per message), so the packet path
// finds a connection's tunnel without asking the manager. Shared by the Daemon and the warm-up's
// hosts: one function literal, so the warm-up warms the code the Daemon runs.
import { MmType } from '../abi/constants.js';
import { mmConnOf, mmTypeOf } from '../abi/mm.js';

export class ConnectionTunnels<T> {
  private readonly byConn = new Map<number, T>();

  /** The tunnel of `connId`, if it is open. */
  get(connId: number): T | undefined {
    return this.byConn.get(connId);
  }

  /** A message on its way up to the manager: a tunnel's own disconnect ends its connection. */
  sawUp(message: Uint8Array): void {
    if (mmTypeOf(message) === MmType.MMUP_DISCONNECT) this.byConn.delete(mmConnOf(message, MmType.MMUP_DISCONNECT));
  }

  /** A message on its way down to `tunnel`: connections start and end with it. Returns its type. */
  sawDown(tunnel: T, message: Uint8Array): number {
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
        for (const [conn, owner] of this.byConn) if (owner === tunnel) this.byConn.delete(conn);
        break;
      default:
    }
    return type;
  }
}
