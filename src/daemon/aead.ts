// The AEAD the daemon's endpoint seals and opens sealed frames with: the addon's batched
// ChaCha20-Poly1305 (src/tun/native/aead.cc, OpenSSL EVP) when the addon loads, node:crypto
// otherwise (the reference implementation, about 7x slower per datagram).
import { nodeCryptoAead, type AeadBatch } from '../crypto/aead.js';
import { loadNative } from '../tun/native.js';

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
