// Host and peer keys as text: 32 octets in standard base64 with padding (44 characters), the way
// `wg genkey` and `wg pubkey` print them.

import { KEY_SIZE } from './primitives.js';

const BASE64_KEY = /^[A-Za-z0-9+/]{42}[AEIMQUYcgkosw048]=$/;

/** The key in `text`, or an error message naming what is wrong. */
export function parseKey(text: string, what = 'key'): Uint8Array | string {
  const trimmed = text.trim();
  if (!BASE64_KEY.test(trimmed)) return `${what} must be ${KEY_SIZE} octets in base64 (44 characters, as wg prints keys)`;
  const bytes = new Uint8Array(Buffer.from(trimmed, 'base64'));
  if (bytes.length !== KEY_SIZE) return `${what} must be ${KEY_SIZE} octets in base64`;
  return bytes;
}

export function formatKey(key: Uint8Array): string {
  return Buffer.from(key.buffer, key.byteOffset, key.byteLength).toString('base64');
}
