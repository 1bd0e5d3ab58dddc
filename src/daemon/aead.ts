// The AEAD the daemon's endpoint seals and opens sealed frames with: the addon's batched
// ChaCha20-Poly1305 (src/tun/native/aead.cc, OpenSSL EVP) when the addon loads, node:crypto
// otherwise (the reference implementation, about 7x slower per datagram). And the X25519 and HKDF
// its handshakes use: the addon's (x25519.cc, hkdf.cc) when it loads, node:crypto's otherwise.
import { nodeCryptoAead, type AeadBatch } from '../crypto/aead.js';
import { useAead, useHashes, useHkdf, useX25519 } from '../crypto/primitives.js';
import { loadNative } from '../tun/native.js';

/**
 * Has every X25519 and Noise HKDF of this process (crypto/primitives.ts) run in the addon: X25519
 * on raw keys, with no node:crypto key object to make for each new ephemeral or peer key (a first
 * handshake paid 150 us a DH cold against 46 us warm), and each HKDF in one call instead of 3 or
 * 4 node:crypto Hmac objects (5 us against 20 to 30), and the handshake's ChaCha20-Poly1305 through
 * the data path's batched AEAD (a node:crypto cipher object cost 50-80 us in a first call), and its
 * BLAKE2s and HMAC (MixHash, mac1, mac2) in one addon call each instead of a Hash or Hmac object. Returns the X25519 implementation's name
 * ('openssl-primitives', 'evp'), or 'node:crypto' when the addon does not load or predates
 * x25519.cc.
 */
export function useNativeHandshake(): string {
  try {
    const native = loadNative();
    useHkdf(typeof native.noiseHkdf === 'function' ? native.noiseHkdf : null);
    const { blake2s, hmacBlake2s } = native;
    useHashes(typeof blake2s === 'function' && typeof hmacBlake2s === 'function' ? { blake2s, hmacBlake2s } : null);
    useAead(typeof native.aeadSeal === 'function' && typeof native.aeadOpen === 'function' ? { seal: native.aeadSeal, open: native.aeadOpen } : null);
    if (typeof native.x25519 !== 'function') throw new Error('an addon built before x25519.cc');
    useX25519(native.x25519);
    return native.x25519Implementation?.() ?? 'native';
  } catch {
    useX25519(null);
    useAead(null);
    useHashes(null);
    return 'node:crypto';
  }
}

/** Undoes useNativeHandshake(): this process's X25519, HKDF, AEAD and hashes are node:crypto's again (tests, benches). */
export function useNodeCryptoHandshake(): void {
  useX25519(null);
  useHkdf(null);
  useAead(null);
  useHashes(null);
}

let chosen: AeadBatch | undefined;

export function defaultAead(): AeadBatch {
  if (chosen !== undefined) return chosen;
  try {
    const native = loadNative();
    if (typeof native.aeadSeal !== 'function' || typeof native.aeadOpen !== 'function') throw new Error('an addon built before aead.cc');
    chosen = { name: 'native', seal: native.aeadSeal, open: native.aeadOpen };
    if (typeof native.aeadSealSegments === 'function') chosen = { ...chosen, sealSegments: native.aeadSealSegments };
    if (typeof native.copyRuns === 'function') chosen = { ...chosen, copyRuns: native.copyRuns };
  } catch {
    chosen = nodeCryptoAead;
  }
  return chosen;
}
