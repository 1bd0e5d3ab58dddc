// Dotted-decimal 32-bit addresses and IPv4 prefixes. MSNL addresses are written the same way as
// IPv4 addresses (the 1994 MSNL master config wrote `128.232.65.42`), so both share this parser.
// Addresses are unsigned 32-bit numbers in host order (0..0xffffffff); the codecs put them on the
// wire in network order. Parsers return an ArgumentError instead of throwing.

/** A user-facing argument error, rendered as `Error: argument "VALUE" is wrong: REASON`. */
export class ArgumentError extends Error {
  constructor(
    readonly argument: string,
    readonly reason: string,
  ) {
    super(`argument "${argument}" is wrong: ${reason}`);
    this.name = 'ArgumentError';
  }
}

export interface Ipv4Prefix {
  /** The network address, host bits zero, as an unsigned 32-bit number. */
  readonly address: number;
  /** Prefix length 0..32. */
  readonly length: number;
}

const DECIMAL_OCTET = /^(0|[1-9][0-9]{0,2})$/;

/** Parses `a.b.c.d` (four decimal octets, no leading zeros) into an unsigned 32-bit number. */
export function parseDottedQuad(text: string, what = 'address'): number | ArgumentError {
  const parts = text.split('.');
  if (parts.length !== 4) return new ArgumentError(text, `${what} must be four dotted decimal octets`);
  let value = 0;
  for (const part of parts) {
    if (!DECIMAL_OCTET.test(part)) return new ArgumentError(text, `"${part}" is not a decimal octet`);
    const octet = Number(part);
    if (octet > 255) return new ArgumentError(text, `octet ${octet} is larger than 255`);
    value = value * 256 + octet;
  }
  return value >>> 0;
}

/** Formats an unsigned 32-bit number as `a.b.c.d`. */
export function formatDottedQuad(value: number): string {
  const v = value >>> 0;
  return `${v >>> 24}.${(v >>> 16) & 255}.${(v >>> 8) & 255}.${v & 255}`;
}

/** The netmask of a prefix length, as an unsigned 32-bit number (length 0 gives 0). */
export function prefixMask(length: number): number {
  return length === 0 ? 0 : (0xffffffff << (32 - length)) >>> 0;
}

/** Converts a dotted netmask (`255.255.0.0`) to a prefix length; rejects non-contiguous masks. */
export function parseNetmask(text: string): number | ArgumentError {
  const mask = parseDottedQuad(text, 'netmask');
  if (mask instanceof ArgumentError) return mask;
  const inverted = ~mask >>> 0;
  if ((inverted & (inverted + 1)) !== 0) return new ArgumentError(text, 'netmask bits are not contiguous');
  return 32 - Math.log2(inverted + 1);
}

function parseLength(text: string, lengthText: string): number | ArgumentError {
  if (!/^(0|[1-9][0-9]?)$/.test(lengthText)) return new ArgumentError(text, `prefix length "${lengthText}" is not a number`);
  const length = Number(lengthText);
  if (length > 32) return new ArgumentError(text, `prefix length ${length} is larger than 32`);
  return length;
}

/**
 * Parses `a.b.c.d/len` (or a bare address, meaning /32) as a network prefix.
 * Host bits must be zero, as with `ip route add`: `10.0.0.1/8` is rejected.
 */
export function parseIpv4Prefix(text: string): Ipv4Prefix | ArgumentError {
  const slash = text.indexOf('/');
  const addressText = slash < 0 ? text : text.slice(0, slash);
  const address = parseDottedQuad(addressText);
  if (address instanceof ArgumentError) return new ArgumentError(text, address.reason);
  const length = slash < 0 ? 32 : parseLength(text, text.slice(slash + 1));
  if (length instanceof ArgumentError) return length;
  if ((address & ~prefixMask(length)) >>> 0 !== 0) {
    return new ArgumentError(text, `host bits are set (did you mean ${formatIpv4Prefix({ address: (address & prefixMask(length)) >>> 0, length })}?)`);
  }
  return { address, length };
}

/**
 * Parses an interface address `a.b.c.d[/len]` (host bits allowed, as with `ip addr add`).
 * A bare address gets `defaultLength`.
 */
export function parseInterfaceAddress(text: string, defaultLength = 32): Ipv4Prefix | ArgumentError {
  const slash = text.indexOf('/');
  const address = parseDottedQuad(slash < 0 ? text : text.slice(0, slash));
  if (address instanceof ArgumentError) return new ArgumentError(text, address.reason);
  const length = slash < 0 ? defaultLength : parseLength(text, text.slice(slash + 1));
  if (length instanceof ArgumentError) return length;
  return { address, length };
}

/** Formats a prefix as `a.b.c.d/len`. */
export function formatIpv4Prefix(prefix: Ipv4Prefix): string {
  return `${formatDottedQuad(prefix.address)}/${prefix.length}`;
}

/** True when `address` lies inside `prefix`. */
export function prefixContains(prefix: Ipv4Prefix, address: number): boolean {
  return ((address & prefixMask(prefix.length)) >>> 0) === prefix.address;
}

/** UDP payload of a 1500-octet IPv4 path (1500 - 20 IPv4 - 8 UDP): the underlay's default datagram. */
export const UDP_PAYLOAD_1500 = 1472;
