// The cryptographic primitives of secure MSNL, all from node:crypto (the OpenSSL that Node.js
// links), none written here: X25519, ChaCha20-Poly1305 (RFC 8439), BLAKE2s-256, HMAC over it and
// the Noise HKDF built from that HMAC. X25519 and the HKDF may instead come from the addon
// (useX25519, useHkdf: the same OpenSSL, on raw keys, without node:crypto's objects). Functions return null on failure instead of throwing, so
// callers on the receive path only count drops. See man/msnl.7 SECURE MSNL.

import { createCipheriv, createDecipheriv, createHash, createHmac, createPrivateKey, createPublicKey, diffieHellman, generateKeyPairSync, randomFillSync, timingSafeEqual, type KeyObject } from 'node:crypto';

export const KEY_SIZE = 32;
export const HASH_SIZE = 32;
export const TAG_SIZE = 16;
/** Size of mac1, mac2 and cookies (HMAC-BLAKE2s truncated). */
export const MAC_SIZE = 16;

// The DER wrapper of a raw X25519 private key (RFC 8410 PKCS#8).
const PKCS8_PREFIX = Buffer.from('302e020100300506032b656e04220420', 'hex');

export interface KeyPair {
  readonly privateKey: Uint8Array;
  readonly publicKey: Uint8Array;
}

/**
 * X25519 on raw 32-octet keys: writes X25519(privateKey, publicKey) into out[0, 32), or with
 * publicKey null the public key of privateKey; false (out zeroed) when an argument is not 32
 * octets or the result is all zero. The addon's (src/tun/native/x25519.cc) has this shape.
 */
export type RawX25519 = (out: Uint8Array, privateKey: Uint8Array, publicKey: Uint8Array | null) => boolean;

let rawX25519: RawX25519 | null = null;

/**
 * Every X25519 from now on through `impl` (msnld: the addon's, src/daemon/aead.ts), or with null
 * through node:crypto's key objects. A key object costs 35 us (a public key from JWK) to 1 ms (a
 * private key from DER) to make, and each new ephemeral and each new peer needs one; raw keys
 * need none.
 */
export function useX25519(impl: RawX25519 | null): void {
  rawX25519 = impl;
}

/**
 * The Noise HKDF in one call: `outputs` (2 or 3) outputs of 32 octets into out; false when it
 * cannot (then node:crypto's HMACs serve). The addon's (src/tun/native/hkdf.cc) has this shape.
 */
export type RawHkdf = (out: Uint8Array, chainingKey: Uint8Array, input: Uint8Array, outputs: number) => boolean;

let rawHkdf: RawHkdf | null = null;

/** Every HKDF from now on through `impl` (msnld: the addon's), or with null through node:crypto's HMAC (an object per HMAC, 3 or 4 an HKDF). */
export function useHkdf(impl: RawHkdf | null): void {
  rawHkdf = impl;
}

/** Which X25519 is in use: 'raw' (useX25519's) or 'node:crypto'. */
export function x25519Name(): string {
  return rawX25519 === null ? 'node:crypto' : 'raw';
}

// Importing a raw key into OpenSSL costs far more than the X25519 itself (about 1 ms for a private
// key, 0.3 ms for a public one), so the key objects are kept: private ones per key array (the host
// key, and ephemerals made here), public ones per value in a small bounded cache (peer statics;
// an ephemeral is used twice in a row).
const privateObjects = new WeakMap<Uint8Array, KeyObject>();
const publicObjects = new Map<string, KeyObject>();
const PUBLIC_CACHE = 256;

function privateKeyObject(raw: Uint8Array): KeyObject {
  let key = privateObjects.get(raw);
  if (key === undefined) {
    key = createPrivateKey({ key: Buffer.concat([PKCS8_PREFIX, raw]), format: 'der', type: 'pkcs8' });
    privateObjects.set(raw, key);
  }
  return key;
}

function publicKeyObject(raw: Uint8Array): KeyObject {
  const bytes = Buffer.from(raw.buffer, raw.byteOffset, raw.byteLength);
  const id = bytes.toString('latin1');
  let key = publicObjects.get(id);
  if (key === undefined) {
    // As a JWK: Node.js hands the raw octets to OpenSSL (EVP_PKEY_new_raw_public_key), 34 us here
    // against 136 us for the same key in DER, which goes through OpenSSL's decoder machinery.
    key = createPublicKey({ key: { kty: 'OKP', crv: 'X25519', x: bytes.toString('base64url') }, format: 'jwk' });
    if (publicObjects.size >= PUBLIC_CACHE) publicObjects.clear();
    publicObjects.set(id, key);
  }
  return key;
}

// The X25519 base point (u = 9): X25519(private, 9) is the private key's public key (RFC 7748
// section 6.1). One X25519 costs 35 us here, an SPKI export of the public key object 80 us (it
// goes through OpenSSL's encoder machinery), so public keys are computed, never exported.
let basePoint: KeyObject | null = null;

function publicOf(privateKey: KeyObject): Uint8Array {
  basePoint ??= createPublicKey({ key: { kty: 'OKP', crv: 'X25519', x: Buffer.alloc(KEY_SIZE).fill(9, 0, 1).toString('base64url') }, format: 'jwk' });
  return new Uint8Array(diffieHellman({ privateKey, publicKey: basePoint }));
}

/** A fresh X25519 key pair from the operating system's random source. */
export function generateKeyPair(): KeyPair {
  if (rawX25519 !== null) {
    const privateKey = randomFillSync(new Uint8Array(KEY_SIZE));
    const publicKey = new Uint8Array(KEY_SIZE);
    if (rawX25519(publicKey, privateKey, null)) return { privateKey, publicKey };
  }
  const { privateKey } = generateKeyPairSync('x25519');
  // As DER, never as JWK: on Node.js 20 a JWK export of a freshly generated key can deadlock the
  // process (ExportJWK holds the key's mutex while it allocates a string; a garbage collection
  // then runs the finished KeyGenJob's destructor, which waits for the same mutex). It hung
  // msnld's warm-up call at start, about one run in ten.
  const der = privateKey.export({ format: 'der', type: 'pkcs8' });
  const raw = new Uint8Array(der.subarray(der.length - KEY_SIZE));
  privateObjects.set(raw, privateKey);
  return { privateKey: raw, publicKey: publicOf(privateKey) };
}

/** The public key of a raw 32-octet X25519 private key (RFC 7748 clamping is OpenSSL's). */
export function publicKeyOf(privateKey: Uint8Array): Uint8Array {
  if (rawX25519 !== null && privateKey.length === KEY_SIZE) {
    const publicKey = new Uint8Array(KEY_SIZE);
    if (rawX25519(publicKey, privateKey, null)) return publicKey;
  }
  return publicOf(privateKeyObject(privateKey));
}

export function keyPairOf(privateKey: Uint8Array): KeyPair {
  return { privateKey: new Uint8Array(privateKey), publicKey: publicKeyOf(privateKey) };
}

/** X25519(private, public); null when the peer's point is invalid or of low order (all-zero result). */
export function dh(privateKey: Uint8Array, publicKey: Uint8Array): Uint8Array | null {
  if (privateKey.length !== KEY_SIZE || publicKey.length !== KEY_SIZE) return null;
  if (rawX25519 !== null) {
    const shared = new Uint8Array(KEY_SIZE);
    return rawX25519(shared, privateKey, publicKey) && !allZero(shared) ? shared : null;
  }
  try {
    const shared = diffieHellman({ privateKey: privateKeyObject(privateKey), publicKey: publicKeyObject(publicKey) });
    return allZero(shared) ? null : new Uint8Array(shared);
  } catch {
    return null;
  }
}

function allZero(b: Uint8Array): boolean {
  let any = 0;
  for (let i = 0; i < b.length; i++) any |= b[i]!;
  return any === 0;
}

/** BLAKE2s-256(a | b) and HMAC-BLAKE2s-256(key, a | b) into out[0, 32); false when they cannot. The addon's (hkdf.cc) have this shape. */
export interface RawHashes {
  blake2s(out: Uint8Array, a: Uint8Array, b?: Uint8Array | null): boolean;
  hmacBlake2s(out: Uint8Array, key: Uint8Array, a: Uint8Array, b?: Uint8Array | null): boolean;
}

let rawHashes: RawHashes | null = null;

/**
 * hash(), hmac() and mac() of one or two parts from now on through `impl` (msnld: the addon's),
 * or with null through node:crypto, which makes a Hash or Hmac object for each (2-3 us warm, tens
 * of us in a first call set-up: a handshake's MixHash and its mac1 make 5 to 8 of them a side).
 */
export function useHashes(impl: RawHashes | null): void {
  rawHashes = impl;
}

/** BLAKE2s-256 of the concatenation of `parts`. */
export function hash(...parts: Uint8Array[]): Uint8Array {
  if (rawHashes !== null && parts.length >= 1 && parts.length <= 2) {
    const out = new Uint8Array(HASH_SIZE);
    if (rawHashes.blake2s(out, parts[0]!, parts[1] ?? null)) return out;
  }
  const h = createHash('blake2s256');
  for (const p of parts) h.update(p);
  return new Uint8Array(h.digest());
}

/** HMAC-BLAKE2s-256 (RFC 2104 over BLAKE2s, block 64 octets) of the concatenation of `parts`. */
export function hmac(key: Uint8Array, ...parts: Uint8Array[]): Uint8Array {
  if (rawHashes !== null && key.length > 0 && parts.length >= 1 && parts.length <= 2) {
    const out = new Uint8Array(HASH_SIZE);
    if (rawHashes.hmacBlake2s(out, key, parts[0]!, parts[1] ?? null)) return out;
  }
  const h = createHmac('blake2s256', key);
  for (const p of parts) h.update(p);
  return new Uint8Array(h.digest());
}

/** MAC(key, msg): HMAC-BLAKE2s truncated to 16 octets (mac1, mac2, cookies). */
export function mac(key: Uint8Array, ...parts: Uint8Array[]): Uint8Array {
  return hmac(key, ...parts).subarray(0, MAC_SIZE);
}

const ONE = Uint8Array.of(1);
const TWO = Uint8Array.of(2);
const THREE = Uint8Array.of(3);

/** Noise HKDF with two outputs (Noise spec section 4.3). */
export function hkdf2(chainingKey: Uint8Array, input: Uint8Array): [Uint8Array, Uint8Array] {
  if (rawHkdf !== null) {
    const out = new Uint8Array(2 * HASH_SIZE);
    if (rawHkdf(out, chainingKey, input, 2)) return [out.subarray(0, HASH_SIZE), out.subarray(HASH_SIZE)];
  }
  const temp = hmac(chainingKey, input);
  const out1 = hmac(temp, ONE);
  const out2 = hmac(temp, out1, TWO);
  return [out1, out2];
}

/** Noise HKDF with three outputs. */
export function hkdf3(chainingKey: Uint8Array, input: Uint8Array): [Uint8Array, Uint8Array, Uint8Array] {
  if (rawHkdf !== null) {
    const out = new Uint8Array(3 * HASH_SIZE);
    if (rawHkdf(out, chainingKey, input, 3)) return [out.subarray(0, HASH_SIZE), out.subarray(HASH_SIZE, 2 * HASH_SIZE), out.subarray(2 * HASH_SIZE)];
  }
  const temp = hmac(chainingKey, input);
  const out1 = hmac(temp, ONE);
  const out2 = hmac(temp, out1, TWO);
  const out3 = hmac(temp, out2, THREE);
  return [out1, out2, out3];
}

/** Constant-time equality of two octet strings (false at once for different lengths). */
export function equal(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && timingSafeEqual(a, b);
}

/** The 12-octet ChaChaPoly nonce of Noise: 4 zero octets, then the 64-bit counter little-endian. */
export function writeNonce(out: Uint8Array, counter: number): Uint8Array {
  out.fill(0, 0, 4);
  let lo = counter % 0x100000000;
  let hi = Math.floor(counter / 0x100000000);
  for (let i = 4; i < 8; i++) {
    out[i] = lo & 0xff;
    lo >>>= 8;
  }
  for (let i = 8; i < 12; i++) {
    out[i] = hi & 0xff;
    hi >>>= 8;
  }
  return out;
}

const scratchNonce = new Uint8Array(12);

/**
 * ChaCha20-Poly1305 seal of plain[from, from + length) under `key`, counter nonce and `ad`, written
 * to out[at..): ciphertext then the 16-octet tag. Returns the octets written. `out` may be `plain`
 * (in place, at === from).
 */
export function sealInto(key: Uint8Array, counter: number, ad: Uint8Array, plain: Uint8Array, from: number, length: number, out: Uint8Array, at: number): number {
  return sealWithNonce(key, writeNonce(scratchNonce, counter), ad, plain, from, length, out, at);
}

/** sealInto with an explicit 12-octet nonce (the RFC 8439 known-answer test uses it). */
export function sealWithNonce(key: Uint8Array, nonce: Uint8Array, ad: Uint8Array, plain: Uint8Array, from: number, length: number, out: Uint8Array, at: number): number {
  const cipher = createCipheriv('chacha20-poly1305', key, nonce, { authTagLength: TAG_SIZE });
  cipher.setAAD(ad, { plaintextLength: length });
  const body = cipher.update(plain.subarray(from, from + length));
  cipher.final();
  out.set(body, at);
  out.set(cipher.getAuthTag(), at + body.length);
  return body.length + TAG_SIZE;
}

/**
 * A batched ChaCha20-Poly1305 of the AeadBatch shape (crypto/aead.ts: keys, buf, desc of 9-word
 * items, count; in place, the result in the item's last word). The addon's (aead.cc) has it.
 */
export type RawAeadRun = (keys: Uint8Array, buf: Uint8Array, desc: Uint32Array, count: number) => number;

let rawSeal: RawAeadRun | null = null;
let rawOpen: RawAeadRun | null = null;

/**
 * The handshake's seal() and open() from now on through `impl` (msnld: the addon's batched AEAD,
 * the data path's, one item a call), or with null through node:crypto's cipher objects. A
 * node:crypto cipher object costs 5 us warm and 50-80 us in a first call set-up (its JavaScript
 * and OpenSSL's cipher fetch run cold there); the addon's call is the one every sealed frame makes.
 */
export function useAead(impl: { seal: RawAeadRun; open: RawAeadRun } | null): void {
  rawSeal = impl?.seal ?? null;
  rawOpen = impl?.open ?? null;
}

// The octets an AeadBatch item keeps free in front of its data (crypto/aead.ts AEAD_FRONT).
const RAW_FRONT = 64;
const RAW_ITEM = 9;

/**
 * One item through `run`: buf is [ad | RAW_FRONT free | data (+ tag room)]; the item's result, or
 * -1 when the call threw.
 */
function rawOne(run: RawAeadRun, key: Uint8Array, counter: number, ad: Uint8Array, data: Uint8Array, room: number): { buf: Uint8Array; at: number; result: number } {
  const at = ad.length + RAW_FRONT;
  const buf = new Uint8Array(at + room);
  buf.set(ad, 0);
  buf.set(data, at);
  const desc = new Uint32Array(RAW_ITEM);
  desc[2] = counter % 0x100000000;
  desc[3] = Math.floor(counter / 0x100000000);
  desc[5] = ad.length;
  desc[6] = at;
  desc[7] = data.length;
  try {
    run(key, buf, desc, 1);
  } catch {
    return { buf, at, result: -1 };
  }
  return { buf, at, result: desc[8]! };
}

/** Seal into a new array (handshake fields). */
export function seal(key: Uint8Array, counter: number, ad: Uint8Array, plain: Uint8Array): Uint8Array {
  if (rawSeal !== null && key.length === KEY_SIZE) {
    const { buf, at, result } = rawOne(rawSeal, key, counter, ad, plain, plain.length + TAG_SIZE);
    if (result === plain.length + TAG_SIZE) return buf.slice(at, at + result);
  }
  const out = new Uint8Array(plain.length + TAG_SIZE);
  sealInto(key, counter, ad, plain, 0, plain.length, out, 0);
  return out;
}

/**
 * Opens box[from, from + length) (ciphertext then tag) into out[at..); returns the plaintext length,
 * or -1 when authentication fails (nothing trustworthy is left in out).
 */
export function openInto(key: Uint8Array, counter: number, ad: Uint8Array, box: Uint8Array, from: number, length: number, out: Uint8Array, at: number): number {
  return openWithNonce(key, writeNonce(scratchNonce, counter), ad, box, from, length, out, at);
}

/** openInto with an explicit 12-octet nonce. */
export function openWithNonce(key: Uint8Array, nonce: Uint8Array, ad: Uint8Array, box: Uint8Array, from: number, length: number, out: Uint8Array, at: number): number {
  if (length < TAG_SIZE) return -1;
  const n = length - TAG_SIZE;
  try {
    const decipher = createDecipheriv('chacha20-poly1305', key, nonce, { authTagLength: TAG_SIZE });
    decipher.setAuthTag(box.subarray(from + n, from + length));
    decipher.setAAD(ad, { plaintextLength: n });
    const body = decipher.update(box.subarray(from, from + n));
    decipher.final();
    out.set(body, at);
    return n;
  } catch {
    return -1;
  }
}

/** Open into a new array; null when authentication fails. */
export function open(key: Uint8Array, counter: number, ad: Uint8Array, box: Uint8Array): Uint8Array | null {
  if (box.length < TAG_SIZE) return null;
  if (rawOpen !== null && key.length === KEY_SIZE) {
    const { buf, at, result } = rawOne(rawOpen, key, counter, ad, box, box.length);
    if (result === box.length - TAG_SIZE) return buf.slice(at, at + result);
    if (result !== -1) return null; // did not authenticate (AEAD_FAILED): no second opinion asked
  }
  const out = new Uint8Array(box.length - TAG_SIZE);
  return openInto(key, counter, ad, box, 0, box.length, out, 0) < 0 ? null : out;
}
