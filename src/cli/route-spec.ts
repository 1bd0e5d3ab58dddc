// A route's words after its MSNL address, as `msnl route add` takes them and showconf writes them
// (in the manner of `ip route`'s nexthops; msnl(8) ROUTES):
//
//   via HOST:PORT [priority N] [via HOST:PORT [priority N]]... (key PUBKEY | auth none) [mtu N]
//
// Each `via` names one exit; `priority` belongs to the exit before it (lower is preferred, 0 when
// left out). The key and the MTU are the route's. Pure.
import { formatHostPort, parseHostPort } from '../abi/endpoint.js';
import { formatKey, parseKey } from '../crypto/keys.js';
import { MAX_ROUTE_EXITS, routeExits, type Route, type RouteExit } from '../store/types.js';

export const ROUTE_GRAMMAR = 'via HOST:PORT [priority N] [via HOST:PORT [priority N]]... key PUBKEY|auth none [mtu N]';
/** The path MTU a route may pin (IP octets). */
export const MIN_ROUTE_MTU = 576;
export const MAX_ROUTE_MTU = 65535;

export interface RouteSpec {
  readonly host: string;
  readonly port: number;
  readonly priority?: number;
  readonly moreExits?: readonly RouteExit[];
  readonly mtu?: number | null;
  readonly publicKey: Uint8Array | null;
}

function integer(text: string | undefined, name: string, min: number, max: number): number | string {
  if (text === undefined) return `argument "${name}" needs a value`;
  if (!/^[0-9]+$/.test(text) || Number(text) < min || Number(text) > max) return `argument "${text}" is wrong: ${name} must be an integer from ${min} to ${max}`;
  return Number(text);
}

/** Parses the words after the MSNL address; an error's text instead of a route. */
export function parseRouteWords(words: readonly string[]): RouteSpec | string {
  const exits: RouteExit[] = [];
  let publicKey: Uint8Array | null | undefined;
  let mtu: number | null = null;
  for (let i = 0; i < words.length; i++) {
    const word = words[i]!;
    const value = words[i + 1];
    switch (word) {
      case 'via': {
        if (value === undefined) return 'expected HOST:PORT after "via"';
        if (publicKey !== undefined) return `"via ${value}" must come before the key`;
        const endpoint = parseHostPort(value);
        if (!('host' in endpoint)) return endpoint.message;
        if (exits.some((e) => e.host === endpoint.host && e.port === endpoint.port)) return `argument "${value}" is wrong: the exit is named twice`;
        exits.push({ host: endpoint.host, port: endpoint.port, priority: 0 });
        i++;
        break;
      }
      case 'priority': {
        const last = exits.at(-1);
        if (last === undefined) return '"priority" must follow "via HOST:PORT"';
        const n = integer(value, 'priority', 0, 65535);
        if (typeof n === 'string') return n;
        if (words[i - 2] !== 'via') return `"priority ${n}" must follow "via HOST:PORT" (one priority per exit)`;
        exits[exits.length - 1] = { ...last, priority: n };
        i++;
        break;
      }
      case 'key': {
        if (publicKey !== undefined) return 'the key is given twice';
        if (value === undefined) return 'argument "key" needs a value';
        const key = parseKey(value, 'the public key');
        if (typeof key === 'string') return `argument "${value}" is wrong: ${key}`;
        publicKey = key;
        i++;
        break;
      }
      case 'auth':
        if (publicKey !== undefined) return 'the key is given twice';
        if (value !== 'none') return `expected "auth none", found "auth ${value ?? ''}"`;
        publicKey = null;
        i++;
        break;
      case 'mtu': {
        const n = integer(value, 'mtu', MIN_ROUTE_MTU, MAX_ROUTE_MTU);
        if (typeof n === 'string') return n;
        mtu = n;
        i++;
        break;
      }
      default:
        return exits.length === 0 ? `expected keyword "via", found "${word}"` : `unexpected "${word}"`;
    }
  }
  const [first, ...more] = exits;
  if (first === undefined) return 'expected "via HOST:PORT"';
  if (exits.length > MAX_ROUTE_EXITS) return `a route has at most ${MAX_ROUTE_EXITS} exits`;
  if (publicKey === undefined) return 'a route needs "key PUBKEY" (the peer\'s `msnl host show` public key) or "auth none" (no authentication)';
  return {
    host: first.host, port: first.port, publicKey,
    ...(first.priority !== 0 ? { priority: first.priority } : {}),
    ...(more.length > 0 ? { moreExits: more } : {}),
    ...(mtu !== null ? { mtu } : {}),
  };
}

/** The exits of a route as `via HOST:PORT [priority N]...`. */
export function formatExitWords(route: Pick<Route, 'host' | 'port' | 'priority' | 'moreExits'>): string {
  return routeExits(route as Route).map((e) => `via ${formatHostPort(e)}${e.priority === 0 ? '' : ` priority ${e.priority}`}`).join(' ');
}

/** The words parseRouteWords reads back. */
export function formatRouteWords(route: RouteSpec): string {
  return `${formatExitWords(route)} ${route.publicKey === null ? 'auth none' : `key ${formatKey(route.publicKey)}`}${route.mtu === undefined || route.mtu === null ? '' : ` mtu ${route.mtu}`}`;
}

/** True when two routes have the same exits, key and MTU. */
export function sameRouteSpec(a: RouteSpec, b: RouteSpec): boolean {
  return formatRouteWords(a) === formatRouteWords(b);
}
