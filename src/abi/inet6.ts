// IPv6 addresses as the underlay socket carries them: 16 octets in network order. Parses the text
// forms of RFC 4291 section 2.2 (with `::` and a trailing dotted quad) and formats by RFC 5952
// (lower case, longest run of two or more zero groups as `::`). Pure: returns null, never throws.
import { isIPv6 } from 'node:net';

/** The 16 octets of an IPv6 address written as text, or null when it is not one (zone ids are not). */
export function parseIpv6(text: string): Uint8Array | null {
  if (!isIPv6(text) || text.includes('%')) return null;
  let head = text;
  const tail: number[] = [];
  const dot = text.lastIndexOf('.');
  if (dot >= 0) {
    const colon = text.lastIndexOf(':');
    const quad = text.slice(colon + 1).split('.').map(Number);
    head = text.slice(0, colon + 1) + '0:0';
    tail.push(((quad[0] ?? 0) << 8) | (quad[1] ?? 0), ((quad[2] ?? 0) << 8) | (quad[3] ?? 0));
  }
  const [left = '', right] = head.split('::');
  const groups = (part: string): number[] => (part === '' ? [] : part.split(':').map((g) => parseInt(g, 16)));
  const l = groups(left);
  const r = right === undefined ? [] : groups(right);
  const words = right === undefined ? l : [...l, ...new Array<number>(8 - l.length - r.length).fill(0), ...r];
  if (tail.length > 0) words.splice(6, 2, ...tail);
  if (words.length !== 8) return null;
  const out = new Uint8Array(16);
  words.forEach((w, i) => {
    out[2 * i] = w >> 8;
    out[2 * i + 1] = w & 0xff;
  });
  return out;
}

/** RFC 5952 text of octets[offset, offset + 16). */
export function formatIpv6(octets: Uint8Array, offset = 0): string {
  const groups: number[] = [];
  for (let i = 0; i < 8; i++) groups.push(((octets[offset + 2 * i] ?? 0) << 8) | (octets[offset + 2 * i + 1] ?? 0));
  let bestStart = -1;
  let bestLength = 1;
  for (let i = 0; i < 8; ) {
    if (groups[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && groups[j] === 0) j++;
    if (j - i > bestLength) {
      bestStart = i;
      bestLength = j - i;
    }
    i = j;
  }
  const hex = (gs: number[]): string => gs.map((g) => g.toString(16)).join(':');
  if (bestStart < 0) return hex(groups);
  return `${hex(groups.slice(0, bestStart))}::${hex(groups.slice(bestStart + bestLength))}`;
}

/** The IPv4 address (host order) of an IPv4-mapped IPv6 address (::ffff:A.B.C.D), or -1. */
export function mappedIpv4(octets: Uint8Array, offset = 0): number {
  for (let i = 0; i < 10; i++) if (octets[offset + i] !== 0) return -1;
  if (octets[offset + 10] !== 0xff || octets[offset + 11] !== 0xff) return -1;
  return (((octets[offset + 12] as number) << 24) | ((octets[offset + 13] as number) << 16) | ((octets[offset + 14] as number) << 8) | (octets[offset + 15] as number)) >>> 0;
}
