// MSNL addresses, ports and SAPs (service access points). An MSNL address is 32 bits written in
// dotted decimal like an IPv4 address (the shared parser lives in src/abi/inet.ts); 0.0.0.0 means
// "this host's default MSNL address". A port is 32 bits, written in decimal or 0x hex. A SAP is an
// address plus a port (8 octets on the wire), written ADDR:PORT. Parsers return ArgumentError.

import { ArgumentError, formatDottedQuad, parseDottedQuad } from '../abi/inet.js';

/** The MSNL address meaning "this host's default address" (bind with address zero). */
export const HOST_DEFAULT_ADDRESS = 0;

/** Size of a SAP on the wire: address u32 + port u32, network order. */
export const SAP_SIZE = 8;

export interface Sap {
  /** MSNL address, unsigned 32-bit, host order. */
  readonly address: number;
  /** MSNL port, unsigned 32-bit. */
  readonly port: number;
}

/** Parses a dotted-decimal MSNL address (`128.232.65.42`). */
export function parseMsnlAddress(text: string): number | ArgumentError {
  return parseDottedQuad(text, 'MSNL address');
}

/** Formats an MSNL address as dotted decimal. */
export function formatMsnlAddress(address: number): string {
  return formatDottedQuad(address);
}

const DECIMAL_PORT = /^(0|[1-9][0-9]{0,9})$/;
const HEX_PORT = /^0[xX][0-9a-fA-F]{1,8}$/;

/** Parses a 32-bit MSNL port written in decimal (`2048`) or hex (`0x0800`). */
export function parseMsnlPort(text: string): number | ArgumentError {
  if (HEX_PORT.test(text)) return Number.parseInt(text.slice(2), 16) >>> 0;
  if (!DECIMAL_PORT.test(text)) return new ArgumentError(text, 'MSNL port must be a decimal or 0x hex number');
  const value = Number(text);
  if (value > 0xffffffff) return new ArgumentError(text, 'MSNL port is larger than 4294967295');
  return value;
}

/** Formats an MSNL port as 0x hex with at least four digits (`0x0800`), as the port table is written. */
export function formatMsnlPort(port: number): string {
  return `0x${(port >>> 0).toString(16).padStart(4, '0')}`;
}

/** Parses `ADDR:PORT` (`128.232.65.42:0x0800`). */
export function parseSap(text: string): Sap | ArgumentError {
  const colon = text.lastIndexOf(':');
  if (colon < 0) return new ArgumentError(text, 'SAP must be written ADDR:PORT');
  const address = parseMsnlAddress(text.slice(0, colon));
  if (address instanceof ArgumentError) return new ArgumentError(text, address.reason);
  const port = parseMsnlPort(text.slice(colon + 1));
  if (port instanceof ArgumentError) return new ArgumentError(text, port.reason);
  return { address, port };
}

/** Formats a SAP as `ADDR:PORT`. */
export function formatSap(sap: Sap): string {
  return `${formatMsnlAddress(sap.address)}:${formatMsnlPort(sap.port)}`;
}

/** Writes a SAP (8 octets, network order) at `offset`. The caller checks the room. */
export function writeSap(buf: Uint8Array, offset: number, sap: Sap): void {
  const view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  view.setUint32(offset, sap.address >>> 0);
  view.setUint32(offset + 4, sap.port >>> 0);
}

/** Reads a SAP (8 octets, network order) at `offset`; undefined when the buffer is too short. */
export function readSap(buf: Uint8Array, offset: number): Sap | undefined {
  if (offset < 0 || offset + SAP_SIZE > buf.length) return undefined;
  const view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  return { address: view.getUint32(offset), port: view.getUint32(offset + 4) };
}

export function sapEquals(a: Sap, b: Sap): boolean {
  return a.address === b.address && a.port === b.port;
}

/** Orders SAPs by address, then port: negative, zero or positive. */
export function compareSap(a: Sap, b: Sap): number {
  if (a.address !== b.address) return a.address < b.address ? -1 : 1;
  if (a.port !== b.port) return a.port < b.port ? -1 : 1;
  return 0;
}
