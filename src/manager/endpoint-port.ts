// What the manager needs of the MSNL endpoint (src/msnl/endpoint.ts implements it): signalling
// only. The data path goes from the tunnel to the endpoint directly, as in the kernel of seed 000.

import type { ConnectRequest } from '../msnl/signalling-types.js';

export interface ManagedEndpoint<L> {
  readonly localAddress: number;
  listen(port: number): void;
  unlisten(port: number): void;
  connect(request: ConnectRequest<L>): number;
  /** Accepts an incoming call; `ipa` is the callee's address on the tunnel interface, sent in the confirm. */
  accept(callId: number, ipa: number): unknown;
  refuse(callId: number, reason: number): unknown;
  disconnect(connId: number, reason: number): unknown;
}
