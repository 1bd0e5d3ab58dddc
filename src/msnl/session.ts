// The keys of a secure connection. A Session is one handshake's pair of transport keys: the index
// the peer names it by, the send counter (the nonce) and the receive replay window. A connection
// holds the current session, the previous one (kept after a rekey so frames already in flight
// still open) and, on the responder's side, the sessions it answered but has not yet heard on
// (pending: the first authenticated frame on one of them promotes it). Pure state, no crypto calls.

import { ReplayWindow } from '../crypto/replay.js';

/** What this host knows of a peer key: its handshake replay guard and cookie state live in SecureLayer. */
export interface PeerKey {
  readonly publicKey: Uint8Array;
  /** Hex of the key, for maps and logs of fingerprints (never of private keys). */
  readonly id: string;
}

export class Session {
  sendCounter = 0;
  readonly window = new ReplayWindow();
  lastReceivedAt: number;

  constructor(
    /** The index this host receives this session's frames on. */
    readonly localIndex: number,
    /** The index the peer receives on (written into every frame we seal). */
    readonly remoteIndex: number,
    readonly sendKey: Uint8Array,
    readonly receiveKey: Uint8Array,
    readonly createdAt: number,
  ) {
    this.lastReceivedAt = createdAt;
  }
}

/** Most unconfirmed responder sessions a connection keeps (one per answered retransmission). */
export const MAX_PENDING_SESSIONS = 4;

export class SecureConn {
  current: Session | null = null;
  previous: Session | null = null;
  pending: Session[] = [];
  /** The local index of the rekey handshake in flight (0 when none), and when it was last sent. */
  rekeyIndex = 0;
  rekeySentAt = -Infinity;
  rekeys = 0;

  constructor(readonly peer: PeerKey) {}

  /** The session to seal with: the current one, or else the newest pending one. */
  sendSession(): Session | null {
    return this.current ?? this.pending[this.pending.length - 1] ?? null;
  }

  /** Installs a session this side can use at once (initiator: after reading the response). */
  install(session: Session): Session[] {
    const dropped: Session[] = [];
    if (this.previous !== null) dropped.push(this.previous);
    this.previous = this.current;
    this.current = session;
    return dropped;
  }

  /** Adds an answered-but-unheard session (responder); returns any it pushes out. */
  addPending(session: Session): Session[] {
    this.pending.push(session);
    return this.pending.length > MAX_PENDING_SESSIONS ? this.pending.splice(0, this.pending.length - MAX_PENDING_SESSIONS) : [];
  }

  /** A frame opened on a pending session: it becomes current. Returns the sessions now dropped. */
  promote(session: Session): Session[] {
    const at = this.pending.indexOf(session);
    if (at < 0) return [];
    const dropped = this.pending.filter((s) => s !== session);
    this.pending = [];
    return [...dropped, ...this.install(session)];
  }

  all(): Session[] {
    const out: Session[] = [...this.pending];
    if (this.current !== null) out.push(this.current);
    if (this.previous !== null) out.push(this.previous);
    return out;
  }

  /** Forgets sessions older than `maxAgeMs`; returns them. */
  expire(now: number, maxAgeMs: number): Session[] {
    const old = (s: Session | null): boolean => s !== null && now - s.createdAt >= maxAgeMs;
    const dropped: Session[] = [];
    if (old(this.previous)) {
      dropped.push(this.previous!);
      this.previous = null;
    }
    if (old(this.current)) {
      dropped.push(this.current!);
      this.current = null;
    }
    const keep = this.pending.filter((s) => !old(s));
    if (keep.length !== this.pending.length) dropped.push(...this.pending.filter((s) => old(s)));
    this.pending = keep;
    return dropped;
  }
}
