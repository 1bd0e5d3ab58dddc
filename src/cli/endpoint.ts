// Underlay endpoints `HOST:PORT`: an IPv4 address, a host name, or `[IPv6]`.
import net from 'node:net';
import { ArgumentError, parseDottedQuad } from '../abi/inet.js';
import { parseInteger } from './args.js';

export interface Endpoint {
  readonly host: string;
  readonly port: number;
}

const HOST_NAME = /^(?=.{1,253}$)[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*$/;

export function parseEndpoint(text: string): Endpoint | ArgumentError {
  const colon = text.lastIndexOf(':');
  if (colon < 0) return new ArgumentError(text, 'expected HOST:PORT');
  let host = text.slice(0, colon);
  const port = parseInteger(text.slice(colon + 1), 1, 65535, 'port');
  if (port instanceof ArgumentError) return new ArgumentError(text, port.reason);
  if (host.startsWith('[') && host.endsWith(']')) {
    host = host.slice(1, -1);
    if (!net.isIPv6(host)) return new ArgumentError(text, `"${host}" is not an IPv6 address`);
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

/** Formats an endpoint so parseEndpoint reads it back. */
export function formatEndpoint(endpoint: Endpoint): string {
  return net.isIPv6(endpoint.host) ? `[${endpoint.host}]:${endpoint.port}` : `${endpoint.host}:${endpoint.port}`;
}
