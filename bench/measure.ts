// Parsers for the tools the benchmark drives (pure: text in, figures out). iperf3 -J reports,
// ping's summary lines, and /proc/PID/stat CPU times. Each returns an Error value, never throws,
// so a tool that failed or printed something unexpected becomes a reported failure in its row.

export interface TcpResult {
  /** Goodput seen by the receiver, bits per second. */
  readonly bitsPerSecond: number;
  readonly retransmits: number;
}

export interface UdpResult {
  /** Datagrams the receiver got per second. */
  readonly receivedPerSecond: number;
  readonly sentPerSecond: number;
  readonly lostPercent: number;
}

export interface PingResult {
  readonly transmitted: number;
  readonly received: number;
  readonly minMs: number;
  readonly avgMs: number;
  readonly maxMs: number;
  readonly mdevMs: number;
}

type Json = Record<string, unknown>;

function object(value: unknown): Json | undefined {
  return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Json) : undefined;
}

function numberAt(root: unknown, path: readonly string[]): number | undefined {
  let node: unknown = root;
  for (const key of path) node = object(node)?.[key];
  return typeof node === 'number' && Number.isFinite(node) ? node : undefined;
}

function parseJson(text: string): Json | Error {
  try {
    const value = object(JSON.parse(text));
    if (value === undefined) return new Error('iperf3 output is not a JSON object');
    const failure = value['error'];
    if (typeof failure === 'string') return new Error(`iperf3: ${failure}`);
    return value;
  } catch (error) {
    return new Error(`iperf3 output is not JSON: ${(error as Error).message}`);
  }
}

/** A TCP test of `iperf3 -J` (any -P): the receiver's total. */
export function parseIperfTcp(text: string): TcpResult | Error {
  const json = parseJson(text);
  if (json instanceof Error) return json;
  const bits = numberAt(json, ['end', 'sum_received', 'bits_per_second']);
  if (bits === undefined) return new Error('iperf3 report has no end.sum_received.bits_per_second');
  return { bitsPerSecond: bits, retransmits: numberAt(json, ['end', 'sum_sent', 'retransmits']) ?? 0 };
}

/** A UDP test of `iperf3 -u -J`: datagrams received per second, from the receiver's loss count. */
export function parseIperfUdp(text: string): UdpResult | Error {
  const json = parseJson(text);
  if (json instanceof Error) return json;
  // iperf3 3.12 puts the receiver's view in end.sum (packets, lost_packets); newer ones add sum_received.
  const sum = object(object(json['end'])?.['sum']);
  const packets = numberAt(sum, ['packets']);
  const lost = numberAt(sum, ['lost_packets']);
  const seconds = numberAt(sum, ['seconds']);
  if (packets === undefined || lost === undefined || seconds === undefined || seconds <= 0) {
    return new Error('iperf3 report has no end.sum packets/lost_packets/seconds');
  }
  const received = Math.max(0, packets - lost);
  return { receivedPerSecond: received / seconds, sentPerSecond: packets / seconds, lostPercent: packets === 0 ? 100 : (100 * lost) / packets };
}

/** The summary of iputils ping: "N packets transmitted, M received" and "rtt min/avg/max/mdev". */
export function parsePing(text: string): PingResult | Error {
  const counts = /(\d+) packets transmitted, (\d+) (?:packets )?received/.exec(text);
  if (counts === null) return new Error('ping printed no packet summary');
  const transmitted = Number(counts[1]);
  const received = Number(counts[2]);
  if (received === 0) return new Error(`ping: 0 of ${transmitted} replies`);
  const rtt = /(?:rtt|round-trip) min\/avg\/max\/(?:mdev|stddev) = ([\d.]+)\/([\d.]+)\/([\d.]+)\/([\d.]+) ms/.exec(text);
  if (rtt === null) return new Error('ping printed no rtt summary');
  return { transmitted, received, minMs: Number(rtt[1]), avgMs: Number(rtt[2]), maxMs: Number(rtt[3]), mdevMs: Number(rtt[4]) };
}

/** The RTT of one ping reply line ("... time=1.23 ms"), the first one in the text. */
export function parseFirstReplyMs(text: string): number | Error {
  const match = /time[=<]([\d.]+) ms/.exec(text);
  return match === null ? new Error('ping got no reply') : Number(match[1]);
}

/** Every reply's RTT ("time=1.23 ms" lines of a ping run without -q), in order. */
export function parsePingTimes(text: string): number[] {
  return [...text.matchAll(/time[=<]([\d.]+) ms/g)].map((match) => Number(match[1]));
}

/** utime + stime of /proc/PID/stat, in clock ticks. The command name may hold spaces and parens. */
export function parseProcStatTicks(text: string): number | Error {
  const close = text.lastIndexOf(')');
  if (close < 0) return new Error('not a /proc/PID/stat line');
  // Fields after "(comm)": state is field 3, utime field 14, stime field 15 (1-based).
  const rest = text.slice(close + 2).trim().split(/\s+/);
  const utime = Number(rest[11]);
  const stime = Number(rest[12]);
  if (!Number.isInteger(utime) || !Number.isInteger(stime)) return new Error('no utime/stime in /proc/PID/stat');
  return utime + stime;
}

/** VmRSS of /proc/PID/status, in bytes. */
export function parseVmRssBytes(text: string): number | Error {
  const match = /^VmRSS:\s+(\d+) kB$/m.exec(text);
  return match === null ? new Error('no VmRSS in /proc/PID/status') : Number(match[1]) * 1024;
}

/** CPU use in percent of one core from a tick difference over a wall-clock interval. */
export function cpuPercent(ticks: number, seconds: number, ticksPerSecond = 100): number {
  return seconds <= 0 ? 0 : (100 * ticks) / ticksPerSecond / seconds;
}

/** The median of the samples (mean of the middle two for an even count); NaN for none. */
export function median(samples: readonly number[]): number {
  if (samples.length === 0) return Number.NaN;
  const sorted = [...samples].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}
