// WireGuard-style message authentication of handshake messages (mac1, mac2) and the cookie that
// keeps a responder under load cheap to talk to. mac1 = MAC(HASH("mac1----" || S_pub), msg up to
// mac1) proves the sender knows the receiver's public key, so a message without it costs one MAC
// and no state. Under load the responder also demands mac2 = MAC(cookie, msg up to mac2), where
// cookie = MAC(R, source address) and R is a secret renewed every COOKIE_SECRET_MS; a sender
// without a fresh cookie is answered by a cookie reply (smaller than what it answers) and must
// retry. MAC is HMAC-BLAKE2s truncated to 16 octets. The cookie travels sealed under a key derived
// per reply: k = HMAC(HASH("cookie--" || S_pub), nonce) with a random 24-octet nonce, then
// ChaCha20-Poly1305(k, counter 0, ad = the mac1 answered). See man/msnl.7.

import { randomFillSync } from 'node:crypto';
import { equal, hash, hmac, mac, MAC_SIZE, open, seal, TAG_SIZE } from './primitives.js';

const LABEL_MAC1 = new TextEncoder().encode('mac1----');
const LABEL_COOKIE = new TextEncoder().encode('cookie--');

/** A cookie is good for this long after the responder made it (and R rotates at this period). */
export const COOKIE_SECRET_MS = 120_000;
/** A sender stops using a received cookie after this long (a little less than the secret's life). */
export const COOKIE_USE_MS = 120_000 - 5_000;
export const COOKIE_NONCE_SIZE = 24;
/** The sealed cookie: 16 octets of cookie and the tag. */
export const SEALED_COOKIE_SIZE = MAC_SIZE + TAG_SIZE;

export function mac1Key(publicKey: Uint8Array): Uint8Array {
  return hash(LABEL_MAC1, publicKey);
}

export function cookieKey(publicKey: Uint8Array): Uint8Array {
  return hash(LABEL_COOKIE, publicKey);
}

/** Where mac1 starts in a handshake message of `length` octets (mac1, mac2 close every one). */
export const mac1At = (length: number): number => length - 2 * MAC_SIZE;
export const mac2At = (length: number): number => length - MAC_SIZE;

/** The receiving side: checks mac1 and mac2 and makes cookie replies. One per host key. */
export class CookieChecker {
  private readonly mac1Key: Uint8Array;
  private readonly cookieKey: Uint8Array;
  private secret = new Uint8Array(32);
  private secretAt = -Infinity;

  constructor(publicKey: Uint8Array, private readonly now: () => number) {
    this.mac1Key = mac1Key(publicKey);
    this.cookieKey = cookieKey(publicKey);
  }

  /** mac1 of a whole handshake message (the last 32 octets are mac1, mac2). */
  checkMac1(msg: Uint8Array): boolean {
    const at = mac1At(msg.length);
    if (at < 0) return false;
    return equal(mac(this.mac1Key, msg.subarray(0, at)), msg.subarray(at, at + MAC_SIZE));
  }

  /** mac2 against the cookie this host would give `source` now. */
  checkMac2(msg: Uint8Array, source: Uint8Array): boolean {
    const at = mac2At(msg.length);
    if (at < MAC_SIZE) return false;
    return equal(mac(this.cookieFor(source), msg.subarray(0, at)), msg.subarray(at));
  }

  /** The nonce and sealed cookie answering `msg` from `source` (the caller frames them). */
  makeReply(msg: Uint8Array, source: Uint8Array): { nonce: Uint8Array; sealed: Uint8Array } {
    const at = mac1At(msg.length);
    const nonce = new Uint8Array(COOKIE_NONCE_SIZE);
    randomFillSync(nonce);
    const sealed = seal(hmac(this.cookieKey, nonce), 0, msg.subarray(at, at + MAC_SIZE), this.cookieFor(source));
    return { nonce, sealed };
  }

  private cookieFor(source: Uint8Array): Uint8Array {
    const now = this.now();
    if (now - this.secretAt >= COOKIE_SECRET_MS) {
      randomFillSync(this.secret);
      this.secretAt = now;
    }
    return mac(this.secret, source);
  }
}

/** The sending side, one per peer key: writes mac1 and mac2, takes cookie replies. */
export class CookieGenerator {
  private readonly mac1Key: Uint8Array;
  private readonly cookieKey: Uint8Array;
  private cookie: Uint8Array | null = null;
  private cookieAt = -Infinity;
  private lastMac1: Uint8Array | null = null;

  constructor(peerPublicKey: Uint8Array, private readonly now: () => number) {
    this.mac1Key = mac1Key(peerPublicKey);
    this.cookieKey = cookieKey(peerPublicKey);
  }

  /** Fills the last 32 octets of `msg` with mac1 and mac2 (zeros without a fresh cookie). */
  addMacs(msg: Uint8Array): void {
    const at = mac1At(msg.length);
    const m1 = mac(this.mac1Key, msg.subarray(0, at));
    msg.set(m1, at);
    this.lastMac1 = m1;
    const fresh = this.cookie !== null && this.now() - this.cookieAt < COOKIE_USE_MS;
    if (fresh) msg.set(mac(this.cookie!, msg.subarray(0, at + MAC_SIZE)), at + MAC_SIZE);
    else msg.fill(0, at + MAC_SIZE);
  }

  /** Takes a cookie reply's nonce and sealed cookie; false when it does not answer our last message. */
  consumeReply(nonce: Uint8Array, sealed: Uint8Array): boolean {
    if (this.lastMac1 === null) return false;
    const cookie = open(hmac(this.cookieKey, nonce), 0, this.lastMac1, sealed);
    if (cookie === null) return false;
    this.cookie = cookie;
    this.cookieAt = this.now();
    return true;
  }
}
