// Per-interface counters: packets and octets each way, and drops by cause. Drop causes are a fixed
// set so the control socket and `msnl ifconfig` can list them by name.

export const DROP_CAUSES = [
  'bad_packet',
  'bad_offload',
  'not_bound',
  'queue_full',
  'refused',
  'call_failed',
  'send_failed',
  'unknown_connection',
  'spoofed_source',
  'device_write',
  'icmp_rate_limited',
  'bad_mm',
] as const;

export type DropCause = (typeof DROP_CAUSES)[number];

export class TunnelCounters {
  rxPackets = 0;
  rxBytes = 0;
  txPackets = 0;
  txBytes = 0;
  icmpSent = 0;
  readonly drops: Record<DropCause, number> = Object.fromEntries(DROP_CAUSES.map((c) => [c, 0])) as Record<DropCause, number>;

  rx(bytes: number): void {
    this.rxPackets++;
    this.rxBytes += bytes;
  }

  tx(bytes: number): void {
    this.txPackets++;
    this.txBytes += bytes;
  }

  drop(cause: DropCause): void {
    this.drops[cause]++;
  }

  get totalDrops(): number {
    let sum = 0;
    for (const cause of DROP_CAUSES) sum += this.drops[cause];
    return sum;
  }
}
