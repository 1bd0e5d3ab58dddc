// Prometheus text exposition (format 0.0.4) of msnld's counters and gauges, written here rather
// than with prom-client: msnld already keeps every value (status counters, per-interface and
// per-connection counters, health), so a scrape only renders a snapshot, and prom-client would add
// a registry of mirrored metrics to keep in step plus a dependency for ~100 lines of text. Pure:
// a snapshot in, the exposition text out. man/msnld.8 METRICS lists every family.

import type { ConnectionRow, HealthRow } from '../control/rows.js';

/** HELP text of every daemon-wide counter (the snake_case keys of `msnl status` counters). */
export const COUNTER_HELP: Readonly<Record<string, string>> = {
  datagrams_in: 'Underlay UDP datagrams received.',
  datagrams_out: 'Underlay UDP datagrams sent.',
  bytes_in: 'Underlay UDP payload octets received.',
  bytes_out: 'Underlay UDP payload octets sent.',
  packets_in: 'MSNL data packets delivered to connections.',
  packets_out: 'MSNL data packets sent on connections.',
  drop_malformed: 'Underlay datagrams dropped as malformed MSNL.',
  drop_unknown_connection: 'Underlay datagrams dropped for a connection that does not exist.',
  drop_wrong_address: 'Underlay datagrams dropped for an MSNL address not this host\'s.',
  drop_unexpected_signal: 'Signalling messages dropped as unexpected in the connection\'s state.',
  drop_send_no_connection: 'Sends dropped because their connection had gone.',
  drop_send_bad_length: 'Sends dropped for a length out of bounds.',
  requests_sent: 'Call requests sent, first tries.',
  retransmits: 'Call requests and other signalling retransmitted.',
  requests_absorbed: 'Duplicate incoming call requests absorbed.',
  waits_sent: 'Wait messages sent to callers while a call was being decided.',
  confirms_resent: 'Call confirmations resent to a repeating caller.',
  confirms_crossed: 'Repeated call requests left unanswered because they arrived before the confirmation they repeat was sent.',
  requests_stale: 'Call requests dropped because they waited in the receive queue past the caller\'s 5 s call limit.',
  requests_rate_limited: 'Incoming call requests dropped by the per-source or overall limit.',
  resets_sent: 'Resets sent.',
  resets_rate_limited: 'Resets not sent because of the reset rate limit.',
  resets_received: 'Resets received.',
  echoes_answered: 'MSNL echo requests answered.',
  probes_sent: 'Health probes sent.',
  probes_answered: 'Health probes answered by peers.',
  probes_rested: 'Health probes not sent because the peer\'s acknowledging probes proved both directions.',
  size_probes_sent: 'Padded size probes sent by the path MTU search.',
  size_probes_answered: 'Padded size probes answered by peers.',
  path_too_big: 'Datagrams the underlay refused as too big for their path (the path MTU was lowered).',
  exit_probes_sent: 'Exit probes sent to the exits of routes with several.',
  exit_probes_answered: 'Exit probes answered by peers.',
  exit_moves: 'Connections moved to another exit of their route (the one in use went silent, or a preferred one came back).',
  drop_auth: 'Handshakes or sealed frames that failed authentication (mac1, Noise, AEAD).',
  drop_replay: 'Sealed frames or initiations seen before (replay window, handshake timestamp).',
  drop_wrong_key: 'Initiations proving a key other than the one configured for the address they claim.',
  drop_plain_refused: 'Plain frames where a keyed one is required (keyed route or connection, or no route).',
  drop_unknown_session: 'Sealed frames naming a session this host does not have.',
  drop_no_host_key: 'Keyed calls in or out refused because this host has no key pair.',
  drop_handshake_rate_limited: 'Handshake initiations dropped by the per-source or load limit.',
  drop_send_no_session: 'Sends dropped because their keyed connection had no session keys.',
  handshakes_sent: 'Noise IK handshake initiations sent.',
  handshakes_answered: 'Noise IK handshake initiations answered.',
  cookie_replies_sent: 'Cookie replies sent to initiators while under load.',
  cookies_received: 'Cookie replies received.',
  rekeys: 'Session key changes (rekeying) of keyed connections.',
  ephemerals_dropped: 'Ephemeral key pairs made ahead for handshakes and dropped unused for their age (renewed every 110 s).',
  sealed_in: 'Sealed frames received and opened.',
  sealed_out: 'Sealed frames sent.',
  roams: 'Times a peer\'s underlay address followed an authenticated frame from a new source.',
  manager_refused_calls: 'Incoming calls the manager refused (no mapping, wrong address, ...).',
  manager_bad_messages: 'Manager messages the manager could not decode.',
  undeliverable: 'Packets from connections no interface could take.',
  reconciles: 'Reconciliations of running state with the database.',
};

export interface InterfaceMetrics {
  readonly name: string;
  readonly bound: boolean;
  readonly connections: number;
  readonly rxPackets: number;
  readonly rxBytes: number;
  readonly txPackets: number;
  readonly txBytes: number;
  readonly drops: Readonly<Record<string, number>>;
}

export interface MetricsSnapshot {
  readonly version: string;
  readonly uptimeS: number;
  readonly counters: Readonly<Record<string, number>>;
  readonly interfaces: readonly InterfaceMetrics[];
  readonly connections: readonly ConnectionRow[];
  readonly health: readonly HealthRow[];
  /** Call set-up times in seconds: bucket bounds, cumulative counts (bounds then +Inf), sum and count. */
  readonly callSetup: { readonly bounds: readonly number[]; readonly cumulative: readonly number[]; readonly sum: number; readonly count: number };
}

export const CONTENT_TYPE = 'text/plain; version=0.0.4; charset=utf-8';

type Labels = Readonly<Record<string, string | number>>;

/** A label value escaped as the exposition format wants: \\, \" and \n. */
export function escapeLabel(value: string): string {
  return value.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n');
}

function number(value: number): string {
  if (Number.isNaN(value)) return 'NaN';
  if (value === Infinity) return '+Inf';
  if (value === -Infinity) return '-Inf';
  return String(value);
}

class Exposition {
  private readonly out: string[] = [];

  family(name: string, type: 'counter' | 'gauge', help: string, samples: ReadonlyArray<readonly [Labels, number]>): void {
    this.out.push(`# HELP ${name} ${help.replace(/\\/g, '\\\\').replace(/\n/g, '\\n')}`, `# TYPE ${name} ${type}`);
    for (const [labels, value] of samples) {
      const text = Object.entries(labels).map(([k, v]) => `${k}="${escapeLabel(String(v))}"`).join(',');
      this.out.push(`${name}${text === '' ? '' : `{${text}}`} ${number(value)}`);
    }
  }

  histogram(name: string, help: string, h: MetricsSnapshot['callSetup']): void {
    this.out.push(`# HELP ${name} ${help}`, `# TYPE ${name} histogram`);
    h.bounds.forEach((bound, i) => this.out.push(`${name}_bucket{le="${number(bound)}"} ${number(h.cumulative[i] ?? 0)}`));
    this.out.push(`${name}_bucket{le="+Inf"} ${number(h.cumulative[h.bounds.length] ?? h.count)}`, `${name}_sum ${number(h.sum)}`, `${name}_count ${number(h.count)}`);
  }

  toString(): string {
    return `${this.out.join('\n')}\n`;
  }
}

const HEALTH_STATES = ['up', 'half', 'down'] as const;

/** The whole exposition of one snapshot. */
export function renderMetrics(s: MetricsSnapshot): string {
  const e = new Exposition();
  e.family('msnl_build_info', 'gauge', 'Always 1; the version label is msnld\'s.', [[{ version: s.version }, 1]]);
  e.family('msnl_uptime_seconds', 'gauge', 'Seconds since msnld started.', [[{}, s.uptimeS]]);
  for (const [key, value] of Object.entries(s.counters)) {
    e.family(`msnl_${key}_total`, 'counter', COUNTER_HELP[key] ?? `The ${key.replace(/_/g, ' ')} counter.`, [[{}, value]]);
  }
  const perInterface = (pick: (i: InterfaceMetrics) => number): Array<[Labels, number]> => s.interfaces.map((i) => [{ interface: i.name }, pick(i)]);
  e.family('msnl_interface_rx_packets_total', 'counter', 'IP packets an interface received from its tunnels (written to the device).', perInterface((i) => i.rxPackets));
  e.family('msnl_interface_rx_bytes_total', 'counter', 'Octets of those packets.', perInterface((i) => i.rxBytes));
  e.family('msnl_interface_tx_packets_total', 'counter', 'IP packets an interface read from the device and sent into its tunnels.', perInterface((i) => i.txPackets));
  e.family('msnl_interface_tx_bytes_total', 'counter', 'Octets of those packets.', perInterface((i) => i.txBytes));
  e.family('msnl_interface_drops_total', 'counter', 'Packets an interface dropped, by cause (msnl ifconfig lists the causes).',
    s.interfaces.flatMap((i) => Object.entries(i.drops).map(([cause, n]): [Labels, number] => [{ interface: i.name, cause }, n])));
  e.family('msnl_interface_bound', 'gauge', '1 when the interface has an address, is up and takes calls.', perInterface((i) => (i.bound ? 1 : 0)));
  e.family('msnl_interface_connections', 'gauge', 'Open connections on the interface.', perInterface((i) => i.connections));
  const perConnection = (pick: (c: ConnectionRow) => number): Array<[Labels, number]> =>
    s.connections.map((c) => [{ connection: c.connection, interface: c.interface, peer_ip: c.peer_ip }, pick(c)]);
  e.family('msnl_connection_rx_packets_total', 'counter', 'Packets received on a connection.', perConnection((c) => c.rx_packets));
  e.family('msnl_connection_rx_bytes_total', 'counter', 'Octets received on a connection.', perConnection((c) => c.rx_bytes));
  e.family('msnl_connection_tx_packets_total', 'counter', 'Packets sent on a connection.', perConnection((c) => c.tx_packets));
  e.family('msnl_connection_tx_bytes_total', 'counter', 'Octets sent on a connection.', perConnection((c) => c.tx_bytes));
  const tunnel = (h: HealthRow): Labels => ({ interface: h.interface, peer_ip: h.peer_ip, remote_address: h.remote_address });
  e.family('msnl_tunnel_state', 'gauge', 'Full-duplex health of a tunnel: 1 for its state (up, half or down), 0 for the others.',
    s.health.flatMap((h) => HEALTH_STATES.map((state): [Labels, number] => [{ ...tunnel(h), state }, h.state === state ? 1 : 0])));
  e.family('msnl_tunnel_rtt_seconds', 'gauge', 'Smoothed round-trip time of a tunnel\'s probes (NaN before the first answer).',
    s.health.map((h) => [tunnel(h), h.rtt_ms === null ? NaN : h.rtt_ms / 1000]));
  e.family('msnl_tunnel_loss_ratio', 'gauge', 'Share of a tunnel\'s recent probes left unanswered, 0 to 1.', s.health.map((h) => [tunnel(h), h.loss]));
  e.family('msnl_tunnel_last_heard_seconds', 'gauge', 'Seconds since a tunnel last heard from its peer (NaN: never).',
    s.health.map((h) => [tunnel(h), h.last_heard_s ?? NaN]));
  e.histogram('msnl_call_setup_seconds', 'Time from starting a call to its connection opening, the handshake of a keyed route included.', s.callSetup);
  return e.toString();
}
