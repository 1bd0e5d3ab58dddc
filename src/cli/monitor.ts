// msnl monitor: follows msnld's events as they happen, like `ip monitor` (the control socket
// pushes them; nothing polls here). One line per event:
//
//   2026-11-30T03:40:01.250Z up ms0 connection 2229199312 peer_ip 10.0.0.2 remote_address 128.232.0.2
//   2026-11-30T03:40:09.500Z health ms0 peer_ip 10.0.0.2 remote_address 128.232.0.2 state half
//
// With -j one JSON object per line (the event row, fields without a value left out). Runs until
// interrupted (exit 0) or until msnld goes away (exit 2).

import type { Command } from 'commander';
import type { EventRow } from '../control/rows.js';
import type { CliContext } from './context.js';

const TEXT_FIELDS = ['connection', 'prefix', 'peer_ip', 'remote_address', 'state', 'reason'] as const;

/** The text line of one event (no LF). */
export function formatEvent(event: EventRow): string {
  const parts = [new Date(event.time_ms).toISOString(), event.event];
  if (event.interface !== null) parts.push(event.interface);
  for (const key of TEXT_FIELDS) {
    const value = event[key];
    if (value !== null) parts.push(key, key === 'reason' ? JSON.stringify(value) : String(value));
  }
  return parts.join(' ');
}

/** The JSON object of one event: the row without its null fields. */
export function eventJson(event: EventRow): Record<string, unknown> {
  return Object.fromEntries(Object.entries(event).filter(([, value]) => value !== null));
}

export function register(program: Command, context: CliContext): void {
  program
    .command('monitor')
    .description('follow msnld: connections up/down, tunnel health changes, failed or refused calls, mapping changes, reconciles (like ip monitor)')
    .addHelpText('after', '\nEvents: up, down, health (state up|half|down), call_failed, call_refused, connect_refused, bound, unbound, mapping (prefix, state set|deleted), reconcile.\nRuns until interrupted; with -j prints one JSON object per line.')
    .action(async () => {
      const json = context.options().json;
      await context.untilInterrupted((signal) =>
        context.daemon('follow msnld', (client) =>
          client.monitor((event) => context.stdout(json ? `${JSON.stringify(eventJson(event))}\n` : `${formatEvent(event)}\n`), signal),
        ),
      );
    });
}
