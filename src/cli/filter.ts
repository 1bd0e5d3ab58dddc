// The row filters of `msnl conn show` and `msnl health`: --interface, --peer and --state, checked
// here and applied by msnld (get=connections / get=health with interface=, peer=, state=), so a
// host with many connections sends only the rows asked for.
import type { Command } from 'commander';
import { ArgumentError, formatDottedQuad, parseDottedQuad } from '../abi/inet.js';
import type { RowFilter } from '../control/protocol.js';

export interface FilterOptions {
  interface?: string;
  peer?: string;
  state?: string;
}

export function addFilterOptions(command: Command, states: readonly string[]): Command {
  return command
    .option('--interface <if>', 'only rows of this interface (ms0..ms3)')
    .option('--peer <ip>', 'only rows of this IP peer')
    .option('--state <state>', `only rows in this state (${states.join(', ')})`);
}

/** The filter the options ask for, or undefined for none; ArgumentError on a bad value. */
export function rowFilter(options: FilterOptions, states: readonly string[]): RowFilter | undefined {
  const filter: { interface?: string; peer?: string; state?: string } = {};
  if (options.interface !== undefined) {
    if (!/^ms[0-3]$/.test(options.interface)) throw new ArgumentError(options.interface, '--interface takes ms0..ms3');
    filter.interface = options.interface;
  }
  if (options.peer !== undefined) {
    const peer = parseDottedQuad(options.peer, '--peer');
    if (typeof peer !== 'number') throw peer;
    filter.peer = formatDottedQuad(peer);
  }
  if (options.state !== undefined) {
    if (!states.includes(options.state)) throw new ArgumentError(options.state, `--state takes one of ${states.join(', ')}`);
    filter.state = options.state;
  }
  return Object.keys(filter).length === 0 ? undefined : filter;
}
