// The data-path measurements of one tunnel path: iperf3 TCP (1 and 4 streams), iperf3 UDP with
// 64-byte datagrams, ping RTT, and the CPU of the tunnel processes during the single-stream run.
// iperf3's server runs once in host 2 for the whole benchmark; every client runs in host 1.
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { sleep, type Topology } from '../src/demo/topology.js';
import { cpuPercent, median, parseFirstReplyMs, parseIperfTcp, parseIperfUdp, parsePing, parsePingTimes, parseProcStatTicks } from './measure.js';
import type { Path } from './peers/peer.js';

export interface TrafficOptions {
  /** Seconds per iperf3 run. */
  readonly seconds: number;
  /** Repetitions of each figure. */
  readonly repeat: number;
  /** Pings per RTT sample. */
  readonly pings: number;
}

/** Samples of every figure for one path; a figure that failed holds its error text instead. */
export interface PathFigures {
  tcp1Gbps: number[] | string;
  tcp4Gbps: number[] | string;
  udp64Kpps: number[] | string;
  pingAvgMs: number[] | string;
  /** The median reply of each ping run: a scheduling stall of one reply moves it less than the average. */
  pingMedianMs: number[] | string;
  /** Undefined for kernel tunnels: no process carries them. */
  cpuPercent: number[] | string | undefined;
  /** CPU of the tunnel processes (both ends) per 64-byte datagram received, in microseconds: what
   *  the pps figure is made of, and steadier than it on a loaded machine. Undefined as above. */
  udp64CpuUs: number[] | string | undefined;
  firstReplyMs: number[] | string;
}

export function emptyFigures(reason: string): PathFigures {
  return { tcp1Gbps: reason, tcp4Gbps: reason, udp64Kpps: reason, pingAvgMs: reason, pingMedianMs: reason, cpuPercent: reason, udp64CpuUs: reason, firstReplyMs: reason };
}

export class IperfServer {
  private child: ChildProcess | undefined;

  async start(topology: Topology): Promise<void> {
    const host = topology.host(2);
    this.child = spawn('ip', ['netns', 'exec', host.netns, 'iperf3', '-s', '-B', '0.0.0.0'], { stdio: 'ignore' });
    const deadline = Date.now() + 5_000;
    while (!/:5201\b/.test(topology.exec(host, ['ss', '-ltn']).stdout)) {
      if (this.child.exitCode !== null || Date.now() > deadline) throw new Error('iperf3 server did not start in host 2');
      await sleep(50);
    }
  }

  async stop(): Promise<void> {
    const child = this.child;
    if (child === undefined || child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    child.kill('SIGTERM');
    await Promise.race([exited, sleep(3_000)]);
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  }
}

function ticksOf(pids: readonly number[]): number {
  let total = 0;
  for (const pid of pids) {
    try {
      const ticks = parseProcStatTicks(readFileSync(`/proc/${pid}/stat`, 'utf8'));
      if (!(ticks instanceof Error)) total += ticks;
    } catch {
      // The process ended; its CPU is lost to the figure, which the row's other samples show.
    }
  }
  return total;
}

/** The RTT of the first packet sent through a fresh path (includes any call or handshake setup). */
export async function firstReply(topology: Topology, path: Path): Promise<number | Error> {
  const result = await topology.execAsync(topology.host(1), ['ping', '-c', '1', '-W', '5', path.server], 10_000);
  return parseFirstReplyMs(result.stdout);
}

async function iperf(topology: Topology, args: readonly string[], seconds: number): Promise<string> {
  // Bounded by the run time plus connection setup and the final exchange.
  const result = await topology.execAsync(topology.host(1), ['iperf3', '-J', '-t', String(seconds), ...args], (seconds + 20) * 1000);
  return result.stdout || result.stderr;
}

function collect(samples: number[], failure: string | undefined): number[] | string {
  return samples.length > 0 ? samples : failure ?? 'no sample';
}

export async function measurePath(topology: Topology, path: Path, pids: () => number[], options: TrafficOptions): Promise<PathFigures> {
  const tcp1: number[] = [], tcp4: number[] = [], udp: number[] = [], ping: number[] = [], pingMedian: number[] = [], cpu: number[] = [], udpCpu: number[] = [];
  let tcp1Error: string | undefined, tcp4Error: string | undefined, udpError: string | undefined, pingError: string | undefined;
  const client = ['-c', path.server, '-B', path.client];
  for (let r = 0; r < options.repeat; r++) {
    const running = pids();
    const ticks0 = ticksOf(running);
    const t0 = process.hrtime.bigint();
    const one = parseIperfTcp(await iperf(topology, client, options.seconds));
    const elapsed = Number(process.hrtime.bigint() - t0) / 1e9;
    if (one instanceof Error) tcp1Error = one.message;
    else {
      tcp1.push(one.bitsPerSecond / 1e9);
      if (running.length > 0) cpu.push(cpuPercent(ticksOf(running) - ticks0, elapsed));
    }
    const four = parseIperfTcp(await iperf(topology, [...client, '-P', '4'], options.seconds));
    if (four instanceof Error) tcp4Error = four.message;
    else tcp4.push(four.bitsPerSecond / 1e9);
    const udpTicks0 = ticksOf(running);
    const small = parseIperfUdp(await iperf(topology, [...client, '-u', '-l', '64', '-b', '0'], options.seconds));
    if (small instanceof Error) udpError = small.message;
    else {
      udp.push(small.receivedPerSecond / 1e3);
      const datagrams = small.receivedPerSecond * options.seconds;
      // Clock ticks (1/100 s, as cpuPercent counts them) over the run, per datagram received.
      if (running.length > 0 && datagrams > 0) udpCpu.push(((ticksOf(running) - udpTicks0) / 100) * 1e6 / datagrams);
    }
    const pinged = await topology.execAsync(topology.host(1),
      ['ping', '-c', String(options.pings), '-i', '0.01', '-W', '2', '-I', path.client, path.server], 60_000);
    const parsed = parsePing(pinged.stdout);
    if (parsed instanceof Error) pingError = parsed.message;
    else {
      ping.push(parsed.avgMs);
      pingMedian.push(median(parsePingTimes(pinged.stdout)));
    }
  }
  return {
    tcp1Gbps: collect(tcp1, tcp1Error),
    tcp4Gbps: collect(tcp4, tcp4Error),
    udp64Kpps: collect(udp, udpError),
    pingAvgMs: collect(ping, pingError),
    pingMedianMs: collect(pingMedian, pingError),
    cpuPercent: pids().length === 0 && cpu.length === 0 ? undefined : collect(cpu, tcp1Error),
    udp64CpuUs: pids().length === 0 && udpCpu.length === 0 ? undefined : collect(udpCpu, udpError),
    firstReplyMs: 'not measured',
  };
}
