// What msnld implements for the control server: one method per request. Methods may return values
// or promises. To answer with a particular errno, throw a ControlError; anything else thrown is
// answered with -EIO and its message.

import type { ConnectionRow, EventRow, HealthRow, InterfaceRow, PingReplyRow, StatusRow } from './rows.js';

export interface ControlHandler {
  status(): StatusRow | Promise<StatusRow>;
  interfaces(): InterfaceRow[] | Promise<InterfaceRow[]>;
  /** The rows may be any iterable: the server streams them to the client in bounded chunks and applies the client's filter. */
  connections(): Iterable<ConnectionRow> | Promise<Iterable<ConnectionRow>>;
  health(): Iterable<HealthRow> | Promise<Iterable<HealthRow>>;
  /** Reconcile running state with the database (as SIGHUP does). */
  reload(): void | Promise<void>;
  /** Apply what changed in the database since the last reconcile, then resolve (the CLI's edits wait for it). */
  sync(): void | Promise<void>;
  /** Tear one connection down; throw ControlError(Errno.ENOENT, ...) when there is no such id. */
  disconnect(id: number): void | Promise<void>;
  /**
   * Send `count` MSNL Echo requests (0: until `signal` aborts) to `msnlAddress` (unsigned 32-bit,
   * host order), one every `intervalMs`; call `onReply` once per request, in order, with
   * rtt_ms null on timeout. Resolve when done; stop early and resolve when `signal` aborts
   * (the client went away). Reject with ControlError(Errno.EHOSTUNREACH, ...) when no route.
   */
  ping(msnlAddress: number, count: number, intervalMs: number, onReply: (reply: PingReplyRow) => void, signal: AbortSignal): Promise<void>;
  /**
   * Calls `onEvent` for every change from now until `signal` aborts (the client went away), then
   * resolves. Optional: without it `monitor=1` is answered -EOPNOTSUPP.
   */
  monitor?(onEvent: (event: EventRow) => void, signal: AbortSignal): Promise<void>;
}

/** An error with the negative errno the control protocol should answer. */
export class ControlError extends Error {
  constructor(
    readonly errno: number,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'ControlError';
  }
}
