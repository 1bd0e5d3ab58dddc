// The Noise IK handshake (Noise Protocol Framework rev. 34, pattern IK, DH 25519, cipher
// ChaChaPoly, hash BLAKE2s), the pattern WireGuard builds on:
//   <- s
//   ...
//   -> e, es, s, ss   (message 1: 32 + 48 + payload + 16 octets)
//   <- e, ee, se      (message 2: 32 + payload + 16 octets)
// Pure: the caller hands in every key, the ephemeral ones included, so the known-answer test can
// replay the published vectors. Readers return null on any failure; nothing here throws on input.

import { dh, hash, hkdf2, HASH_SIZE, KEY_SIZE, open, seal, TAG_SIZE, type KeyPair } from './primitives.js';

export const PROTOCOL_NAME = 'Noise_IK_25519_ChaChaPoly_BLAKE2s';

const EMPTY = new Uint8Array(0);

/** The Noise SymmetricState: chaining key, handshake hash, and the cipher key with its nonce. */
export class SymmetricState {
  ck: Uint8Array;
  h: Uint8Array;
  private k: Uint8Array | null = null;
  private n = 0;

  constructor(ck: Uint8Array, h: Uint8Array) {
    this.ck = ck;
    this.h = h;
  }

  /** InitializeSymmetric(protocol name) then MixHash(prologue). */
  static start(protocolName: string, prologue: Uint8Array): SymmetricState {
    const name = new TextEncoder().encode(protocolName);
    let h: Uint8Array;
    if (name.length <= HASH_SIZE) {
      h = new Uint8Array(HASH_SIZE);
      h.set(name);
    } else {
      h = hash(name);
    }
    const state = new SymmetricState(h, h);
    state.mixHash(prologue);
    return state;
  }

  clone(): SymmetricState {
    const copy = new SymmetricState(this.ck, this.h);
    copy.k = this.k;
    copy.n = this.n;
    return copy;
  }

  mixHash(data: Uint8Array): void {
    this.h = hash(this.h, data);
  }

  mixKey(input: Uint8Array): void {
    const [ck, k] = hkdf2(this.ck, input);
    this.ck = ck;
    this.k = k;
    this.n = 0;
  }

  /** MixKey(DH(priv, pub)); false when the DH fails (invalid or low-order point). */
  mixDh(privateKey: Uint8Array, publicKey: Uint8Array): boolean {
    const shared = dh(privateKey, publicKey);
    if (shared === null) return false;
    this.mixKey(shared);
    return true;
  }

  encryptAndHash(plain: Uint8Array): Uint8Array {
    const out = this.k === null ? new Uint8Array(plain) : seal(this.k, this.n++, this.h, plain);
    this.mixHash(out);
    return out;
  }

  decryptAndHash(box: Uint8Array): Uint8Array | null {
    let plain: Uint8Array | null;
    if (this.k === null) plain = new Uint8Array(box);
    else {
      plain = open(this.k, this.n, this.h, box);
      if (plain === null) return null;
      this.n++;
    }
    this.mixHash(box);
    return plain;
  }

  /** Split(): the initiator's sending key and the responder's sending key. */
  split(): [Uint8Array, Uint8Array] {
    return hkdf2(this.ck, EMPTY);
  }
}

/** Transport keys after a handshake, from this side's point of view. */
export interface TransportKeys {
  readonly send: Uint8Array;
  readonly receive: Uint8Array;
  /** The handshake hash (channel binding, and the known-answer tests). */
  readonly handshakeHash: Uint8Array;
}

export interface InitiatorState {
  readonly symmetric: SymmetricState;
  readonly ephemeral: KeyPair;
  readonly staticKey: KeyPair;
  readonly remoteStatic: Uint8Array;
}

export interface ResponderState {
  readonly symmetric: SymmetricState;
  readonly staticKey: KeyPair;
  readonly remoteEphemeral: Uint8Array;
  /** The initiator's static public key, authenticated by message 1. */
  readonly remoteStatic: Uint8Array;
}

/** Octets message 1 adds to its payload: e, encrypted s with its tag, the payload's tag. */
export const MESSAGE1_OVERHEAD = KEY_SIZE + KEY_SIZE + TAG_SIZE + TAG_SIZE;
/** Octets message 2 adds to its payload: e, the payload's tag. */
export const MESSAGE2_OVERHEAD = KEY_SIZE + TAG_SIZE;

/** The state both sides start from: name, prologue, and the pre-message `<- s`. */
export function initialState(prologue: Uint8Array, responderStatic: Uint8Array, protocolName = PROTOCOL_NAME): SymmetricState {
  const state = SymmetricState.start(protocolName, prologue);
  state.mixHash(responderStatic);
  return state;
}

/**
 * Message 1 up to its payload: e, es, s (encrypted), ss; what does not depend on the payload, so
 * it can be made ahead of the call that sends it (HandshakeKeys: for configured peers). Its
 * ephemeral key must go into one message only: finishMessage1 takes it once.
 */
export interface Message1Start {
  /** e, then s encrypted with its tag (KEY_SIZE + KEY_SIZE + TAG_SIZE octets). */
  readonly head: Uint8Array;
  readonly symmetric: SymmetricState;
  readonly ephemeral: KeyPair;
  readonly staticKey: KeyPair;
  readonly remoteStatic: Uint8Array;
}

/**
 * Message 1's start (see Message1Start). Null when a DH fails (the responder's key is not a valid
 * point). `staticShared`: DH(s, rs) computed earlier (it never changes for a pair of static keys;
 * WireGuard keeps it per peer too), instead of computing it here.
 */
export function startMessage1(start: SymmetricState, staticKey: KeyPair, remoteStatic: Uint8Array, ephemeral: KeyPair, staticShared: Uint8Array | null = null): Message1Start | null {
  const ss = start.clone();
  ss.mixHash(ephemeral.publicKey);
  if (!ss.mixDh(ephemeral.privateKey, remoteStatic)) return null;
  const encStatic = ss.encryptAndHash(staticKey.publicKey);
  if (staticShared !== null) ss.mixKey(staticShared);
  else if (!ss.mixDh(staticKey.privateKey, remoteStatic)) return null;
  const head = new Uint8Array(KEY_SIZE + encStatic.length);
  head.set(ephemeral.publicKey, 0);
  head.set(encStatic, KEY_SIZE);
  return { head, symmetric: ss, ephemeral, staticKey, remoteStatic };
}

/** Message 1 from its start and the payload. `begun` is left as it was (its state is cloned). */
export function finishMessage1(begun: Message1Start, payload: Uint8Array): { message: Uint8Array; state: InitiatorState } {
  const ss = begun.symmetric.clone();
  const encPayload = ss.encryptAndHash(payload);
  const message = new Uint8Array(begun.head.length + encPayload.length);
  message.set(begun.head, 0);
  message.set(encPayload, begun.head.length);
  return { message, state: { symmetric: ss, ephemeral: begun.ephemeral, staticKey: begun.staticKey, remoteStatic: begun.remoteStatic } };
}

/** Writes message 1 (startMessage1 then finishMessage1). Null when a DH fails. */
export function writeMessage1(start: SymmetricState, staticKey: KeyPair, remoteStatic: Uint8Array, ephemeral: KeyPair, payload: Uint8Array, staticShared: Uint8Array | null = null): { message: Uint8Array; state: InitiatorState } | null {
  const begun = startMessage1(start, staticKey, remoteStatic, ephemeral, staticShared);
  return begun === null ? null : finishMessage1(begun, payload);
}

/**
 * Reads message 1 as the responder. Null when it does not authenticate. `staticSharedOf(rs)`, when
 * given, supplies DH(s, rs) for the initiator's static key (null: it is not known and computed here).
 */
export function readMessage1(start: SymmetricState, staticKey: KeyPair, message: Uint8Array, staticSharedOf?: (remoteStatic: Uint8Array) => Uint8Array | null): { payload: Uint8Array; state: ResponderState } | null {
  if (message.length < MESSAGE1_OVERHEAD) return null;
  const ss = start.clone();
  const re = message.slice(0, KEY_SIZE);
  ss.mixHash(re);
  if (!ss.mixDh(staticKey.privateKey, re)) return null;
  const rs = ss.decryptAndHash(message.subarray(KEY_SIZE, 2 * KEY_SIZE + TAG_SIZE));
  if (rs === null) return null;
  const known = staticSharedOf?.(rs) ?? null;
  if (known !== null) ss.mixKey(known);
  else if (!ss.mixDh(staticKey.privateKey, rs)) return null;
  const payload = ss.decryptAndHash(message.subarray(2 * KEY_SIZE + TAG_SIZE));
  if (payload === null) return null;
  return { payload, state: { symmetric: ss, staticKey, remoteEphemeral: re, remoteStatic: rs } };
}

/**
 * Writes message 2 as the responder and splits. Null when a DH fails. `ephemeralShared`: DH(e,
 * rs) computed earlier (for a configured initiator, with the ephemeral made ahead for it),
 * instead of computing it here.
 */
export function writeMessage2(state: ResponderState, ephemeral: KeyPair, payload: Uint8Array, ephemeralShared: Uint8Array | null = null): { message: Uint8Array; keys: TransportKeys } | null {
  const ss = state.symmetric.clone();
  ss.mixHash(ephemeral.publicKey);
  if (!ss.mixDh(ephemeral.privateKey, state.remoteEphemeral)) return null;
  if (ephemeralShared !== null) ss.mixKey(ephemeralShared);
  else if (!ss.mixDh(ephemeral.privateKey, state.remoteStatic)) return null;
  const encPayload = ss.encryptAndHash(payload);
  const message = new Uint8Array(KEY_SIZE + encPayload.length);
  message.set(ephemeral.publicKey, 0);
  message.set(encPayload, KEY_SIZE);
  const [toResponder, toInitiator] = ss.split();
  return { message, keys: { send: toInitiator, receive: toResponder, handshakeHash: ss.h } };
}

/** Reads message 2 as the initiator and splits. Null when it does not authenticate. */
export function readMessage2(state: InitiatorState, message: Uint8Array): { payload: Uint8Array; keys: TransportKeys } | null {
  if (message.length < MESSAGE2_OVERHEAD) return null;
  const ss = state.symmetric.clone();
  const re = message.slice(0, KEY_SIZE);
  ss.mixHash(re);
  if (!ss.mixDh(state.ephemeral.privateKey, re)) return null;
  if (!ss.mixDh(state.staticKey.privateKey, re)) return null;
  const payload = ss.decryptAndHash(message.subarray(KEY_SIZE));
  if (payload === null) return null;
  const [toResponder, toInitiator] = ss.split();
  return { payload, keys: { send: toResponder, receive: toInitiator, handshakeHash: ss.h } };
}
