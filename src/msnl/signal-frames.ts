// The signals call set-up and release (signalling.ts) sends, each written into one reused frame
// and sent at once by the caller (no message object, no buffer per signal).

import type { Sap } from './address.js';
import { MsgType, SIGNAL_SIZE } from './constants.js';
import type { Connection } from './connection.js';
import type { OutCall } from './signalling-types.js';
import { writeSignal, type SignalMessage } from './wire.js';

export class SignalFrames {
  private readonly frame = new Uint8Array(SIGNAL_SIZE);

  /** A redirect of the incoming call `m` to `to`. */
  redirect(m: SignalMessage, to: Sap): Uint8Array {
    return this.signal(MsgType.REDIRECT, 0, m.transaction, m.origAddr, m.origPort, to.address, to.port, m.ipa, m.origConnId, m.respConnId);
  }

  /** The release of an open connection, to its peer. */
  release<L>(conn: Connection<L>, reason: number): Uint8Array {
    const orig = conn.role === 'originator';
    const o = orig ? conn.local : conn.remote;
    const r = orig ? conn.remote : conn.local;
    return this.signal(MsgType.DISCONNECT, reason, conn.transaction, o.address, o.port, r.address, r.port,
      conn.localIpa, orig ? conn.connId : conn.remoteConnId, orig ? conn.remoteConnId : conn.connId);
  }

  /** The confirm of the request `msg` that made `conn`. */
  confirm<L>(msg: SignalMessage, conn: Connection<L>): Uint8Array {
    return this.signal(MsgType.CONNECT_CONFIRM, 0, msg.transaction, msg.origAddr, msg.origPort, conn.local.address, msg.respPort, conn.localIpa, msg.origConnId, conn.connId);
  }

  /** A wait or disconnect answering a request, echoing its fields (responder id 0). */
  answer(msg: SignalMessage, type: 2 | 3, reason: number): Uint8Array {
    return this.signal(type, reason, msg.transaction, msg.origAddr, msg.origPort, msg.respAddr, msg.respPort, msg.ipa, msg.origConnId, 0);
  }

  /** The call's request (or, with DISCONNECT, its cancellation). */
  request<L>(call: OutCall<L>, type: 0 | 2, reason: number): Uint8Array {
    return this.signal(type, reason, call.txn, call.local.address, call.local.port, call.remote.address, call.remote.port, call.ipa, call.localConnId, 0);
  }

  /** The frame, holding the signal with these fields. */
  private signal(type: number, reason: number, transaction: number, origAddr: number, origPort: number, respAddr: number, respPort: number,
    ipa: number, origConnId: number, respConnId: number): Uint8Array {
    writeSignal(this.frame, type, reason, transaction, origAddr, origPort, respAddr, respPort, ipa, origConnId, respConnId);
    return this.frame;
  }
}
