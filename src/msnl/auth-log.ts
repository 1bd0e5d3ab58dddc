// One clear log line per refused call and reason, at most once a minute per caller, so a flood
// of forged calls cannot flood the log. Pure: the caller passes the clock reading and the logger.

import { formatDottedQuad } from '../abi/inet.js';
import type { AuthFailure } from './types.js';

const EXPLANATION: Record<AuthFailure, (address: string) => string> = {
  'wrong-key': (a) => `it proved a key other than the one its route names (compare 'msnl route show' here with 'msnl host show' on ${a})`,
  'no-key': (a) => `it called with a key but its route here is auth none or missing (msnl route add ${a} via HOST:PORT key PUBKEY)`,
  'plain-refused': (a) => `it called without a key but its route here has a key or is missing (plain calls need 'auth none' on the route to ${a})`,
  'no-host-key': () => "this host has no key pair (msnl host key generate)",
  'no-answer': (a) => `it answered no handshake: it does not accept this host's key (its route to this host must name the key 'msnl host show' prints here), this host's route to ${a} names a key other than its own ('msnl host show' on ${a}), or it is unreachable`,
};

const MAX_REMEMBERED = 1024;

export class AuthFailureLog {
  private readonly last = new Map<string, number>();

  constructor(private readonly intervalMs = 60_000) {}

  /** The line to log for this failure now, or undefined when the same one was logged recently. */
  line(address: number, reason: AuthFailure, now: number): string | undefined {
    const key = `${address}:${reason}`;
    const at = this.last.get(key);
    if (at !== undefined && now - at < this.intervalMs) return undefined;
    if (this.last.size >= MAX_REMEMBERED) this.last.clear();
    this.last.set(key, now);
    const text = formatDottedQuad(address);
    const what = reason === 'no-host-key' ? `make a keyed call with MSNL address ${text}` : reason === 'no-answer' ? `make a keyed call to MSNL address ${text}` : `authenticate a call from MSNL address ${text}`;
    return `failed to ${what}: ${EXPLANATION[reason](text)}`;
  }
}
