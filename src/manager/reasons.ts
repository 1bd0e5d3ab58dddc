// Two reason-code spaces meet in the manager: the wire's (msnl(7), src/msnl/constants.ts Reason)
// and the manager messages' (ms(4), src/abi/constants.ts MmReason). These tables translate.

import { MmReason } from '../abi/constants.js';
import { Reason } from '../msnl/constants.js';

const MM_TO_WIRE: ReadonlyMap<number, number> = new Map<number, number>([
  [MmReason.NORMAL, Reason.NORMAL],
  [MmReason.NO_MAPPING, Reason.REFUSED],
  [MmReason.NO_ROUTE, Reason.REFUSED],
  [MmReason.REFUSED_BY_PEER, Reason.REFUSED],
  // A refusal by the callee's manager is reason 2; 3 is only the endpoint's "RespAddr is not mine".
  [MmReason.IPA_MISMATCH, Reason.REFUSED],
  [MmReason.TIMEOUT, Reason.TIMEOUT],
  [MmReason.MAPPING_REMOVED, Reason.NORMAL],
  [MmReason.IDLE, Reason.IDLE],
  [MmReason.SHUTDOWN, Reason.SHUTDOWN],
  [MmReason.NO_SERVICE, Reason.NO_LISTENER],
  [MmReason.DUPLICATE, Reason.NORMAL],
]);

const WIRE_TO_MM: ReadonlyMap<number, number> = new Map<number, number>([
  [Reason.NORMAL, MmReason.NORMAL],
  [Reason.NO_LISTENER, MmReason.NO_SERVICE],
  [Reason.REFUSED, MmReason.REFUSED_BY_PEER],
  [Reason.WRONG_ADDRESS, MmReason.NO_ROUTE],
  [Reason.IDLE, MmReason.IDLE],
  // The peer no longer knows the connection (it restarted): as good as timed out.
  [Reason.UNKNOWN_CONNECTION, MmReason.TIMEOUT],
  [Reason.NO_RESOURCES, MmReason.REFUSED_BY_PEER],
  [Reason.TIMEOUT, MmReason.TIMEOUT],
  [Reason.SHUTDOWN, MmReason.SHUTDOWN],
  [Reason.DEAD, MmReason.TIMEOUT],
  [Reason.NO_HANDSHAKE, MmReason.TIMEOUT],
]);

/** The wire reason for a manager reason (unknown ones become a plain refusal). */
export function wireReason(mm: number): number {
  return MM_TO_WIRE.get(mm) ?? Reason.REFUSED;
}

/** The manager reason for a wire reason (unknown ones become "refused by peer"). */
export function mmReason(wire: number): number {
  return WIRE_TO_MM.get(wire) ?? MmReason.REFUSED_BY_PEER;
}

/**
 * The manager reason for an open connection that went down with wire reason `wire`. A peer that
 * releases with reason 7 (timeout) is a caller that gave up its own call after we had confirmed
 * it (our confirm was late or lost, as in a call storm): it calls again itself if it still wants
 * the tunnel, so this end must not redial it as a lost tunnel; that is a normal release here.
 */
export function releaseReason(wire: number, byPeer: boolean): number {
  if (byPeer && wire === Reason.TIMEOUT) return MmReason.NORMAL;
  return mmReason(wire);
}
