// A fleet host's record in etcd: the key layout and the JSON value, both ways. Pure.
//
//   key    /msnl/v1/hosts/<MSNL address>          e.g. /msnl/v1/hosts/128.232.0.3
//   value  {"version":1,"msnl":"128.232.0.3","endpoints":["192.0.2.3:7010"],
//           "key":"<base64 X25519 public key>"|null,"prefixes":["10.0.0.3/32", ...]}
//
// Everything read from etcd is hostile until checked: decodeRecord returns a reason for anything
// malformed or foreign (another version, a key that does not name the record's own address,
// too large), and the caller skips and logs it; it never throws.
import { ArgumentError, formatDottedQuad, formatIpv4Prefix, parseDottedQuad, parseIpv4Prefix, type Ipv4Prefix } from '../abi/inet.js';
import { formatHostPort, parseHostPort, type HostPort } from '../abi/endpoint.js';
import { formatKey, parseKey } from '../crypto/keys.js';

/** Every key msnl writes starts with this; the version is part of it so v2 can live beside v1. */
export const KEY_PREFIX = '/msnl/v1/hosts/';
export const RECORD_VERSION = 1;
/** Bounds that keep one record (and so one etcd value) small. */
export const MAX_ENDPOINTS = 8;
export const MAX_PREFIXES = 1024;
export const MAX_VALUE_BYTES = 64 * 1024;

export interface HostRecord {
  readonly msnlAddress: number;
  /** Underlay endpoints, preferred first. */
  readonly endpoints: readonly HostPort[];
  /** The host's X25519 public key, or null when it has none (auth none). */
  readonly publicKey: Uint8Array | null;
  /** The IPv4 prefixes the host serves. */
  readonly prefixes: readonly Ipv4Prefix[];
}

export function recordKey(msnlAddress: number): string {
  return `${KEY_PREFIX}${formatDottedQuad(msnlAddress)}`;
}

/** The MSNL address a key names, or a reason why it is not an msnl v1 host key. */
export function addressOfKey(key: string): number | string {
  if (!key.startsWith(KEY_PREFIX)) return `key ${JSON.stringify(key.slice(0, 80))} is not under ${KEY_PREFIX}`;
  const parsed = parseDottedQuad(key.slice(KEY_PREFIX.length), 'MSNL address');
  if (parsed instanceof ArgumentError) return `key ${JSON.stringify(key.slice(0, 80))} does not end in an MSNL address (${parsed.reason})`;
  return parsed;
}

export function encodeRecord(record: HostRecord): string {
  return JSON.stringify({
    version: RECORD_VERSION,
    msnl: formatDottedQuad(record.msnlAddress),
    endpoints: record.endpoints.map(formatHostPort),
    key: record.publicKey === null ? null : formatKey(record.publicKey),
    prefixes: record.prefixes.map(formatIpv4Prefix),
  });
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Decodes and checks the value stored under `key`; a reason string for anything that is not a valid msnl v1 record of that key. */
export function decodeRecord(key: string, value: string): HostRecord | string {
  const keyAddress = addressOfKey(key);
  if (typeof keyAddress === 'string') return keyAddress;
  if (value.length > MAX_VALUE_BYTES) return `value is ${value.length} bytes, more than ${MAX_VALUE_BYTES}`;
  let json: unknown;
  try {
    json = JSON.parse(value);
  } catch {
    return 'value is not JSON';
  }
  if (!isObject(json)) return 'value is not a JSON object';
  if (json.version !== RECORD_VERSION) return `record version ${JSON.stringify(json.version)} is not ${RECORD_VERSION}`;
  if (typeof json.msnl !== 'string') return 'record has no "msnl" address';
  const msnl = parseDottedQuad(json.msnl, 'MSNL address');
  if (msnl instanceof ArgumentError) return `"msnl" ${msnl.reason}`;
  if (msnl !== keyAddress) return `record is for ${json.msnl}, not for the key's ${formatDottedQuad(keyAddress)} (foreign)`;
  if (msnl === 0) return 'MSNL address 0.0.0.0 is not a host';
  if (!Array.isArray(json.endpoints) || json.endpoints.length === 0 || json.endpoints.length > MAX_ENDPOINTS) {
    return `"endpoints" must be a list of 1 to ${MAX_ENDPOINTS} HOST:PORT`;
  }
  const endpoints: HostPort[] = [];
  for (const text of json.endpoints) {
    if (typeof text !== 'string') return '"endpoints" holds a non-string';
    const parsed = parseHostPort(text);
    if (parsed instanceof ArgumentError) return `endpoint ${parsed.message}`;
    endpoints.push(parsed);
  }
  let publicKey: Uint8Array | null = null;
  if (json.key !== null && json.key !== undefined) {
    if (typeof json.key !== 'string') return '"key" is not a string';
    const parsed = parseKey(json.key, 'public key');
    if (typeof parsed === 'string') return `"key": ${parsed}`;
    publicKey = parsed;
  }
  if (!Array.isArray(json.prefixes) || json.prefixes.length > MAX_PREFIXES) return `"prefixes" must be a list of at most ${MAX_PREFIXES} prefixes`;
  const prefixes: Ipv4Prefix[] = [];
  for (const text of json.prefixes) {
    if (typeof text !== 'string') return '"prefixes" holds a non-string';
    const parsed = parseIpv4Prefix(text);
    if (parsed instanceof ArgumentError) return `prefix ${parsed.message}`;
    prefixes.push(parsed);
  }
  return { msnlAddress: msnl, endpoints, publicKey, prefixes };
}

/** Whether two records say the same (so an unchanged record is not put again). */
export function sameRecord(a: HostRecord, b: HostRecord): boolean {
  return encodeRecord(a) === encodeRecord(b);
}
