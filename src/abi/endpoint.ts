// Underlay endpoints written `HOST:PORT`: the one parser every front end uses (msnld --listen,
// `msnl host set listen`, `msnl route add ... via`). HOST is an IPv4 dotted quad, a host name
// (RFC 1123) or a bracketed IPv6 address; PORT is a decimal 1..65535 without leading zeros.
// Pure: returns an ArgumentError instead of throwing.
import { isIPv6 } from 'node:net';
import { ArgumentError, parseDottedQuad } from './inet.js';

/** A parsed `HOST:PORT`: the host as written (IPv6 without brackets) and the port. */
export interface HostPort {
  readonly host: string;
  readonly port: number;
}

const HOST_NAME = /^(?=.{1,253}$)[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*$/;
const PORT = /^[1-9][0-9]{0,4}$/;

/** Parses `A.B.C.D:PORT`, `NAME:PORT` or `[IPv6]:PORT`. */
export function parseHostPort(text: string): HostPort | ArgumentError {
  const colon = text.lastIndexOf(':');
  if (colon < 0) return new ArgumentError(text, 'expected HOST:PORT');
  let host = text.slice(0, colon);
  const portText = text.slice(colon + 1);
  const port = Number(portText);
  if (!PORT.test(portText) || port > 65535) return new ArgumentError(text, 'port must be a decimal integer between 1 and 65535');
  if (host.startsWith('[') && host.endsWith(']')) {
    host = host.slice(1, -1);
    if (!isIPv6(host)) return new ArgumentError(text, `"${host}" is not an IPv6 address`);
    return { host, port };
  }
  if (/^[0-9.]+$/.test(host)) {
    const address = parseDottedQuad(host);
    if (address instanceof ArgumentError) return new ArgumentError(text, address.reason);
    return { host, port };
  }
  if (!HOST_NAME.test(host)) return new ArgumentError(text, `"${host}" is not an IPv4 address, [IPv6] address or host name`);
  return { host, port };
}

/** Formats an endpoint so parseHostPort reads it back (IPv6 in brackets). */
export function formatHostPort(endpoint: HostPort): string {
  return isIPv6(endpoint.host) ? `[${endpoint.host}]:${endpoint.port}` : `${endpoint.host}:${endpoint.port}`;
}
