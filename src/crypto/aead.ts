// ChaCha20-Poly1305 over batches of datagrams, in place, described by a Uint32Array: the surface the
// addon's aeadSeal/aeadOpen offer (src/tun/native/aead.cc, loaded by src/tun/aead-native.ts) and a
// reference implementation of it on node:crypto (primitives.ts). The secure layer picks keys,
// counters and what a failure means; an AeadBatch only transforms octets and writes results.
//
// Item i is desc[i * AEAD_ITEM ..]: keyOffset (into keys, 32 octets), the 12-octet RFC 8439 nonce
// as three little-endian words (Noise's: 0, then the 64-bit counter's low and high words),
// adOffset, adLength, dataOffset, dataLength (into buf), result.
//  - seal: buf[dataOffset, +dataLength) is encrypted in place and its 16-octet tag written after
//    it; result = dataLength + 16, or 0 when the item cannot be done.
//  - open: buf[dataOffset, +dataLength) is ciphertext then tag, replaced in place by the
//    plaintext; result = dataLength - 16, or AEAD_FAILED when it does not authenticate.

import { KEY_SIZE, openWithNonce, sealWithNonce, TAG_SIZE } from './primitives.js';

export const AEAD_ITEM = 9;
export const AEAD_FAILED = 0xffffffff;
/**
 * Octets of `buf` in front of an item's data (not overlapping its AD) that let the addon encipher
 * it in one ChaCha20 call instead of two (aead.cc, Joined*): they are set aside and put back, so
 * a batch lays its items out with at least this much in front of the first one's data.
 */
export const AEAD_FRONT = 64;

/** Word indexes inside an item. */
export const Desc = {
  KEY: 0,
  NONCE: 1,
  AD_OFFSET: 4,
  AD_LENGTH: 5,
  DATA_OFFSET: 6,
  DATA_LENGTH: 7,
  RESULT: 8,
} as const;

export interface AeadBatch {
  /** Which implementation this is ('native' or 'node:crypto'), for logs and tests. */
  readonly name: string;
  /** Seals items 0..count-1 of desc; returns how many it looked at. */
  seal(keys: Uint8Array, buf: Uint8Array, desc: Uint32Array, count: number): number;
  /** Opens items 0..count-1 of desc; returns how many it looked at. */
  open(keys: Uint8Array, buf: Uint8Array, desc: Uint32Array, count: number): number;
  /**
   * Cuts src[srcOffset, + length) into chunks of `chunk` octets and seals each as one datagram
   * [heads' sealed header with counter + i | heads' data header with the chunk's offset | chunk |
   * tag] at out[at + i * (chunk + 48)], under key[0, 32) and nonce (0, counter + i); returns the
   * number of segments, 0 when an argument is out of range (the addon's aead-segments.cc; absent
   * where the addon is not: the caller then seals segment by segment).
   */
  sealSegments?(key: Uint8Array, heads: Uint8Array, src: Uint8Array, srcOffset: number, length: number, chunk: number, counter: number, out: Uint8Array, at: number): number;
  /**
   * Not AEAD, but the addon's buffer work handed over with it: copies run i, src[runs[3i], +
   * runs[3i + 2]) to dst[runs[3i + 1]..), for i < count, by one call; count, or -1 (nothing
   * copied) when a run is out of range (copy-runs.cc; absent where the addon is not: the
   * reassembler then copies segment by segment). The reassembler joins opened segments with it.
   */
  copyRuns?(src: Uint8Array, dst: Uint8Array, runs: Int32Array, count: number): number;
}

/** Fills item i of desc with a Noise counter nonce (counter below 2^53). */
export function describe(desc: Uint32Array, i: number, keyOffset: number, counter: number, adOffset: number, adLength: number, dataOffset: number, dataLength: number): void {
  const at = i * AEAD_ITEM;
  desc[at] = keyOffset;
  desc[at + 1] = 0;
  desc[at + 2] = counter % 0x100000000;
  desc[at + 3] = Math.floor(counter / 0x100000000);
  desc[at + 4] = adOffset;
  desc[at + 5] = adLength;
  desc[at + 6] = dataOffset;
  desc[at + 7] = dataLength;
  desc[at + 8] = 0;
}

const inside = (offset: number, length: number, size: number): boolean => offset <= size && length <= size - offset;

function run(encrypt: boolean, keys: Uint8Array, buf: Uint8Array, desc: Uint32Array, count: number): number {
  const n = Math.max(0, Math.min(Math.floor(count), Math.floor(desc.length / AEAD_ITEM)));
  const nonce = new Uint8Array(12);
  const nonceView = new DataView(nonce.buffer);
  for (let i = 0; i < n; i++) {
    const at = i * AEAD_ITEM;
    const keyOffset = desc[at]!, adOffset = desc[at + 4]!, adLength = desc[at + 5]!, dataOffset = desc[at + 6]!, dataLength = desc[at + 7]!;
    const room = encrypt ? dataLength + TAG_SIZE : dataLength;
    if (!inside(keyOffset, KEY_SIZE, keys.length) || !inside(adOffset, adLength, buf.length) || !inside(dataOffset, room, buf.length)) {
      desc[at + 8] = encrypt ? 0 : AEAD_FAILED;
      continue;
    }
    const key = keys.subarray(keyOffset, keyOffset + KEY_SIZE);
    const ad = buf.slice(adOffset, adOffset + adLength);
    for (let w = 0; w < 3; w++) nonceView.setUint32(4 * w, desc[at + 1 + w]!, true);
    if (encrypt) {
      desc[at + 8] = sealWithNonce(key, nonce, ad, buf, dataOffset, dataLength, buf, dataOffset);
    } else {
      const got = openWithNonce(key, nonce, ad, buf, dataOffset, dataLength, buf, dataOffset);
      desc[at + 8] = got < 0 ? AEAD_FAILED : got;
    }
  }
  return n;
}

/** The reference AeadBatch: one node:crypto cipher object per item (correct, and slow). */
export const nodeCryptoAead: AeadBatch = {
  name: 'node:crypto',
  seal: (keys, buf, desc, count) => run(true, keys, buf, desc, count),
  open: (keys, buf, desc, count) => run(false, keys, buf, desc, count),
};
