// The flags of `npm run bench` (pure): --quick, --scale, --out FILE, and for narrower data runs
// --only NAME[,NAME...] (the peers to set up, by name), --seconds N and --repeat N.
import type { TrafficOptions } from './traffic.js';

/** The peers of the data runs, by the names --only takes. */
export const PEER_NAMES = ['underlay', 'kernel VXLAN', 'wireguard-go', 'OpenVPN', 'node relay', 'msnl (auth)', 'msnl', 'msnl IPv6', 'msnl u1400'] as const;

export interface Settings extends TrafficOptions {
  readonly quick: boolean;
  readonly scale: boolean;
  readonly importRows: number;
  readonly prefixes: number;
  readonly callers: number;
  readonly out: string | undefined;
  /** The peers to run; undefined: all of them, plus the control figures and the lookups. */
  readonly only: readonly string[] | undefined;
}

const VALUED = ['--out', '--only', '--seconds', '--repeat'];

function count(flag: string, text: string, max: number): number {
  const value = Number(text);
  if (!Number.isInteger(value) || value < 1 || value > max) throw new Error(`argument "${flag} ${text}" is wrong: it needs a whole number from 1 to ${max}`);
  return value;
}

/** Reads the bench's flags; throws `argument "x" is wrong: ...` for anything else. */
export function parseFlags(argv: readonly string[]): Settings {
  const values = new Map<string, string>();
  let quick = false;
  let scale = false;
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === '--quick') quick = true;
    else if (arg === '--scale') scale = true;
    else if (VALUED.includes(arg)) {
      const value = argv[i + 1];
      if (value === undefined || value.startsWith('--')) throw new Error(`argument "${arg}" is wrong: it needs a value`);
      values.set(arg, value);
      i++;
    } else {
      throw new Error(`argument "${arg}" is wrong: bench takes --quick, --scale, --out FILE, --only NAME[,NAME], --seconds N and --repeat N`);
    }
  }
  const onlyText = values.get('--only');
  const only = onlyText?.split(',').map((name) => name.trim());
  for (const name of only ?? []) {
    if (!(PEER_NAMES as readonly string[]).includes(name)) throw new Error(`argument "--only ${onlyText}" is wrong: "${name}" is not one of ${PEER_NAMES.join(', ')}`);
  }
  const secondsText = values.get('--seconds');
  const repeatText = values.get('--repeat');
  const base = quick
    ? { seconds: 1, repeat: 1, pings: 20, importRows: 10_000, prefixes: 100_000, callers: 100 }
    : { seconds: 5, repeat: 2, pings: 100, importRows: 100_000, prefixes: 1_000_000, callers: 1_000 };
  return {
    ...base,
    quick,
    scale,
    out: values.get('--out'),
    only,
    seconds: secondsText === undefined ? base.seconds : count('--seconds', secondsText, 600),
    repeat: repeatText === undefined ? base.repeat : count('--repeat', repeatText, 100),
  };
}
