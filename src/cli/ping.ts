// msnl ping: the MSNL Echo service, through the daemon, with ping(8)-like output.
//
//   PING 128.232.65.43: MSNL Echo
//   64 bytes from 128.232.65.43: seq=1 time=0.234 ms
//   Request timeout for seq=2
//
//   --- 128.232.65.43 msnl ping statistics ---
//   2 packets transmitted, 1 received, 50% packet loss
//   rtt min/avg/max/mdev = 0.234/0.234/0.234/0.000 ms
//
// Without -c it runs until interrupted, then prints the summary. Exit 0 when any reply came
// back, 3 when none did, 2 when the daemon failed. With -j it prints one JSON object at the end.

import type { Command } from 'commander';
import { parseDottedQuad } from '../abi/inet.js';
import { PING_MAX_COUNT, PING_MAX_INTERVAL_MS, PING_MIN_INTERVAL_MS } from '../control/protocol.js';
import type { PingReplyRow } from '../control/rows.js';
import { parseDecimal, parseInteger } from './args.js';
import type { CliContext } from './context.js';
import { EXIT_CHECK, must } from './errors.js';
import { printJson } from './output.js';

export interface PingSummary {
  transmitted: number;
  received: number;
  /** Fraction 0..1. */
  loss: number;
  rtt_min_ms: number | null;
  rtt_avg_ms: number | null;
  rtt_max_ms: number | null;
  rtt_mdev_ms: number | null;
}

/** ping(8)'s statistics over the replies (mdev is the standard deviation of the RTTs). */
export function summarize(replies: readonly PingReplyRow[]): PingSummary {
  const rtts = replies.flatMap((r) => (r.rtt_ms === null ? [] : [r.rtt_ms]));
  const transmitted = replies.length;
  const received = rtts.length;
  const loss = transmitted === 0 ? 0 : (transmitted - received) / transmitted;
  if (received === 0) return { transmitted, received, loss, rtt_min_ms: null, rtt_avg_ms: null, rtt_max_ms: null, rtt_mdev_ms: null };
  const avg = rtts.reduce((a, b) => a + b, 0) / received;
  const mdev = Math.sqrt(rtts.reduce((a, b) => a + (b - avg) ** 2, 0) / received);
  return { transmitted, received, loss, rtt_min_ms: Math.min(...rtts), rtt_avg_ms: avg, rtt_max_ms: Math.max(...rtts), rtt_mdev_ms: mdev };
}

export function formatReply(address: string, reply: PingReplyRow): string {
  if (reply.rtt_ms === null) return `Request timeout for seq=${reply.seq}`;
  return `${reply.bytes} bytes from ${address}: seq=${reply.seq} time=${reply.rtt_ms.toFixed(3)} ms`;
}

export function formatSummary(address: string, s: PingSummary): string {
  const lines = [
    '',
    `--- ${address} msnl ping statistics ---`,
    `${s.transmitted} packets transmitted, ${s.received} received, ${Number((s.loss * 100).toFixed(1))}% packet loss`,
  ];
  if (s.rtt_min_ms !== null) {
    const f = (v: number | null): string => (v ?? 0).toFixed(3);
    lines.push(`rtt min/avg/max/mdev = ${f(s.rtt_min_ms)}/${f(s.rtt_avg_ms)}/${f(s.rtt_max_ms)}/${f(s.rtt_mdev_ms)} ms`);
  }
  return `${lines.join('\n')}\n`;
}

export function register(program: Command, context: CliContext): void {
  program
    .command('ping')
    .description('MSNL Echo service (output like ping(8): one line per reply, summary)')
    .argument('<msnladdr>', 'MSNL address to ping, dotted decimal')
    .option('-c, --count <count>', 'stop after COUNT requests (default: until interrupted)')
    .option('-i, --interval <seconds>', 'seconds between requests', '1')
    .action(async (addressText: string, options: { count?: string; interval: string }) => {
      must(parseDottedQuad(addressText, 'MSNL address'));
      const count = options.count === undefined ? 0 : must(parseInteger(options.count, 1, PING_MAX_COUNT, 'count'));
      const interval = must(parseDecimal(options.interval, PING_MIN_INTERVAL_MS / 1000, PING_MAX_INTERVAL_MS / 1000, 'interval'));
      const json = context.options().json;
      const replies: PingReplyRow[] = [];
      if (!json) context.stdout(`PING ${addressText}: MSNL Echo\n`);
      await context.untilInterrupted((signal) =>
        context.daemon('ping', (client) =>
          client.ping(addressText, count, Math.round(interval * 1000), (reply) => {
            replies.push(reply);
            if (!json) context.stdout(`${formatReply(addressText, reply)}\n`);
          }, signal),
        ),
      );
      const summary = summarize(replies);
      if (json) printJson(context, { address: addressText, ...summary, replies });
      else context.stdout(formatSummary(addressText, summary));
      if (summary.received === 0) context.exitStatus = EXIT_CHECK;
    });
}
