// Keyed against plain msnl ms0 in one run, alternating, on fresh daemons each time (issue 13's
// targets: keyed TCP >= 0.7x plain, keyed first reply < 5 ms). Each round sets up plain then
// keyed msnld on hosts 1 and 2 (bench/peers/msnl.ts), times the first ping through each of
// ms0..ms3 (each a new MSNL call, so with a Noise IK handshake when keyed), then one iperf3 TCP
// stream over ms0 and the CPU of both msnld. Prints every sample and the medians; the ratio of
// medians is the figure (the machine's other load moves both columns alike).
// Run (root): npx tsc -p tsconfig.json && node dist/bench/keyed.js [--rounds N] [--seconds S]
//   [--cpu-prof DIR] (V8 profiles of every msnld) [--perf DIR] (`perf record -g` of both msnld
//   during each TCP run, JavaScript frames named by --perf-basic-prof) [--first-only] (no TCP runs)
//   [--iface N] (the TCP runs over msN instead of ms0: ms3 moves 64 KiB packets)
//   [--udp64] (iperf3 -u -l 64 -b 0 instead of TCP: thousands of datagrams received a second, and
//   msnld CPU microseconds per datagram, both ends) [--ab FLAG] (both columns keyed, the first
//   with msnld FLAG, e.g. --no-io-uring: the old way and the new alternately in one run)
//   [--rate KPPS] (with --udp64: iperf3 offers KPPS thousand datagrams a second instead of as many
//   as it can, so both columns do the same work and CPU per datagram compares like with like;
//   the sending and receiving msnld's CPU are then printed apart)
//   [--syscalls] (`perf stat` of each msnld's UDP, TUN, io_uring and epoll system calls during
//   each data run, printed per datagram received: what batching leaves per packet)
import { spawn } from 'node:child_process';
import { mkdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { Topology } from '../src/demo/topology.js';
import { cpuPercent, median, parseIperfTcp, parseIperfUdp, parseProcStatTicks } from './measure.js';
import { MsnlPeer, msnlAddress } from './peers/msnl.js';
import { IperfServer, firstReply } from './traffic.js';

interface Samples {
  /** Gbit/s of TCP, or with --udp64 thousands of 64-octet datagrams received a second. */
  tcpGbps: number[];
  cpu: number[];
  firstMs: number[];
}

function flag(name: string, fallback: string): string {
  const at = process.argv.indexOf(name);
  return at >= 0 ? process.argv[at + 1] ?? fallback : fallback;
}

function ticks(pids: readonly number[]): number {
  let total = 0;
  for (const pid of pids) {
    const t = parseProcStatTicks(readFileSync(`/proc/${pid}/stat`, 'utf8'));
    if (!(t instanceof Error)) total += t;
  }
  return total;
}

/** Voluntary and involuntary context switches of `pids`, summed. */
function switches(pids: readonly number[]): [number, number] {
  const sum: [number, number] = [0, 0];
  for (const pid of pids) {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    sum[0] += Number(/^voluntary_ctxt_switches:\s+(\d+)/m.exec(status)?.[1] ?? 0);
    sum[1] += Number(/^nonvoluntary_ctxt_switches:\s+(\d+)/m.exec(status)?.[1] ?? 0);
  }
  return sum;
}

/** Starts `perf record -g` of `pids` for `seconds` into DIR/LABEL-N.data; resolves when it ends. */
function perfRecord(dir: string, label: string, pids: readonly number[], seconds: number): Promise<void> {
  const out = path.join(dir, `${label}-${Date.now()}.data`);
  const child = spawn('perf', ['record', '-q', '-g', '-o', out, '-p', pids.join(','), '--', 'sleep', String(seconds)], { stdio: 'ignore' });
  return new Promise((resolve) => {
    child.once('exit', () => resolve());
    child.once('error', () => resolve());
  });
}

const SYSCALLS = ['sendmmsg', 'recvmmsg', 'io_uring_enter', 'read', 'writev', 'write', 'epoll_pwait'];

/** Counts each of SYSCALLS made by `pid` for `seconds` (`perf stat`); resolves with the counts. */
function countSyscalls(pid: number, seconds: number): Promise<Map<string, number>> {
  const events = SYSCALLS.map((name) => `syscalls:sys_enter_${name}`).join(',');
  const child = spawn('perf', ['stat', '-x', ',', '-e', events, '-p', String(pid), '--', 'sleep', String(seconds)], { stdio: ['ignore', 'ignore', 'pipe'] });
  let text = '';
  child.stderr.on('data', (chunk: Buffer) => void (text += chunk.toString()));
  return new Promise((resolve) => {
    const done = (): void => {
      const counts = new Map<string, number>();
      for (const line of text.split('\n')) {
        const [value, , event] = line.split(',');
        const name = /syscalls:sys_enter_(\w+)/.exec(event ?? '')?.[1];
        if (name !== undefined && /^\d+$/.test(value ?? '')) counts.set(name, Number(value));
      }
      resolve(counts);
    };
    child.once('exit', done);
    child.once('error', done);
  });
}

/** The TX (sender) or RX (receiver) packet count of `msN` on `host`, from `msnl ifconfig` (NaN when unreadable). */
function devicePackets(topology: Topology, host: number, iface: number, field: 'TX' | 'RX'): number {
  const out = topology.msnl(topology.host(host), ['ifconfig', `ms${iface}`]).stdout;
  return Number(new RegExp(`${field} packets (\\d+)`).exec(out)?.[1] ?? NaN);
}

async function round(topology: Topology, auth: boolean, seconds: number, into: Samples, nodeArgs: readonly string[], perfDir?: string, iface = 0, daemonArgs: readonly string[] = []): Promise<void> {
  const peer = new MsnlPeer(topology, auth, 4, undefined, nodeArgs, daemonArgs);
  try {
    await peer.setup(topology);
    for (const iface of [0, 1, 2, 3]) {
      const ms = await firstReply(topology, { label: '', client: msnlAddress(iface, 1), server: msnlAddress(iface, 2), mtu: 1500 });
      if (!(ms instanceof Error)) into.firstMs.push(ms);
    }
    if (process.argv.includes('--first-only')) return;
    const pids = peer.pids();
    const small64 = process.argv.includes('--udp64');
    const sent0 = small64 ? devicePackets(topology, 1, iface, 'TX') : NaN;
    const got0 = small64 ? devicePackets(topology, 2, iface, 'RX') : NaN;
    const t0 = ticks(pids);
    const cs0 = switches(pids);
    const started = process.hrtime.bigint();
    const counting = process.argv.includes('--syscalls') ? pids.map((pid) => countSyscalls(pid, Math.max(1, seconds - 1))) : [];
    const recorded = perfDir === undefined ? Promise.resolve() : perfRecord(perfDir, auth ? 'keyed' : 'plain', pids, Math.max(1, seconds - 1));
    const rate = Number(flag('--rate', '0'));
    const udp = process.argv.includes('--udp64') ? ['-u', '-l', '64', '-b', rate > 0 ? String(Math.round(rate * 1000 * 64 * 8)) : '0'] : [];
    const each0 = pids.map((pid) => ticks([pid]));
    const out = await topology.execAsync(topology.host(1), ['iperf3', '-J', '-t', String(seconds), '-c', msnlAddress(iface, 2), '-B', msnlAddress(iface, 1), ...udp], (seconds + 20) * 1000);
    const elapsed = Number(process.hrtime.bigint() - started) / 1e9;
    await recorded;
    if (udp.length > 0) {
      const small = parseIperfUdp(out.stdout || out.stderr);
      if (small instanceof Error) console.log(`${auth ? 'keyed' : 'plain'}: iperf3: ${small.message}`);
      else {
        const received = small.receivedPerSecond * seconds;
        const cpuUs = ((ticks(pids) - t0) / 100) * 1e6 / received;
        const endTicks = pids.map((pid, i) => ticks([pid]) - each0[i]!);
        const ends = endTicks.map((t) => ((t / 100) * 1e6 / received).toFixed(1)).join(' + ');
        // Per packet each msnld handled (the sender's TUN reads, the receiver's TUN writes): lost ones
        // are not counted where no msnld touched them, so this holds where loss moves the other.
        const handled = [devicePackets(topology, 1, iface, 'TX') - sent0, devicePackets(topology, 2, iface, 'RX') - got0];
        const perHandled = endTicks.map((t, i) => ((t / 100) * 1e6 / handled[i]!).toFixed(2)).join(' + ');
        console.log(`  per packet handled (sender read ${handled[0]}, receiver wrote ${handled[1]}): ${perHandled} us`);
        console.log(`${auth ? 'keyed' : 'plain'}: ${(small.receivedPerSecond / 1e3).toFixed(1)} kpps (${(small.sentPerSecond / 1e3).toFixed(1)} sent, ${small.lostPercent.toFixed(1)} % lost), ${cpuUs.toFixed(1)} us msnld CPU per datagram (sender + receiver ${ends})`);
        if (counting.length > 0) {
          const counted = await Promise.all(counting);
          // perf stat counted for about seconds - 1 of the run: per datagram received in that time.
          const window = Math.max(1, seconds - 1) * small.receivedPerSecond;
          counted.forEach((counts, i) => console.log(`  ${i === 0 ? 'sender' : 'receiver'} system calls per datagram: ${SYSCALLS.map((name) => `${name} ${((counts.get(name) ?? 0) / window).toFixed(3)}`).join(', ')}`));
        }
        into.tcpGbps.push(small.receivedPerSecond / 1e3);
        into.cpu.push(cpuUs);
      }
      return;
    }
    const tcp = parseIperfTcp(out.stdout || out.stderr);
    if (tcp instanceof Error) console.log(`${auth ? 'keyed' : 'plain'}: iperf3: ${tcp.message}`);
    else {
      const sent = (JSON.parse(out.stdout) as { end?: { sum_sent?: { retransmits?: number } } }).end?.sum_sent?.retransmits;
      const cs = switches(pids).map((n, i) => n - cs0[i]!);
      const packets = (tcp.bitsPerSecond * seconds) / 8 / (iface === 3 ? 65483 : 1448);
      console.log(`${auth ? 'keyed' : 'plain'}: ${(tcp.bitsPerSecond / 1e9).toFixed(2)} Gbit/s, ${sent} retransmits, msnld context switches per packet (voluntary, involuntary): ${cs.map((n) => (n / packets).toFixed(2)).join(', ')}`);
      into.tcpGbps.push(tcp.bitsPerSecond / 1e9);
      into.cpu.push(cpuPercent(ticks(pids) - t0, elapsed));
    }
  } finally {
    await peer.teardown(topology);
  }
}

async function main(): Promise<number> {
  if (process.getuid?.() !== 0) {
    console.error('Error: bench/keyed needs root (it builds network namespaces)');
    return 1;
  }
  const rounds = Number(flag('--rounds', '3'));
  const seconds = Number(flag('--seconds', '4'));
  const iface = Number(flag('--iface', '0'));
  if (![0, 1, 2, 3].includes(iface)) {
    console.error(`Error: argument "--iface ${flag('--iface', '')}" is wrong: it takes 0, 1, 2 or 3`);
    return 1;
  }
  const profDir = process.argv.includes('--cpu-prof') ? path.resolve(flag('--cpu-prof', 'prof')) : undefined;
  if (profDir !== undefined) mkdirSync(profDir, { recursive: true });
  const perfDir = process.argv.includes('--perf') ? path.resolve(flag('--perf', 'perf')) : undefined;
  if (perfDir !== undefined) mkdirSync(perfDir, { recursive: true });
  const nodeArgs = [...(profDir === undefined ? [] : ['--cpu-prof', `--cpu-prof-dir=${profDir}`]), ...(perfDir === undefined ? [] : ['--perf-basic-prof', '--no-logfile-per-isolate', `--logfile=${path.join(perfDir, 'v8.log')}`])];
  // --ab FLAG: the first column is keyed too, its msnld run with FLAG.
  const ab = process.argv.includes('--ab') ? flag('--ab', '') : undefined;
  if (ab !== undefined && !/^--[a-z-]+$/.test(ab)) {
    console.error(`Error: argument "--ab ${ab}" is wrong: it takes one msnld flag, e.g. --no-io-uring`);
    return 1;
  }
  const topology = Topology.create({ tag: 'keyed', hosts: 2, underlayMtu: 1500 });
  const iperf = new IperfServer();
  const stop = (): void => void iperf.stop().finally(() => topology.destroy().finally(() => process.exit(130)));
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
  const plain: Samples = { tcpGbps: [], cpu: [], firstMs: [] };
  const keyed: Samples = { tcpGbps: [], cpu: [], firstMs: [] };
  if (ab !== undefined) console.log(`--ab ${ab}: the column named plain is keyed msnld run with ${ab}`);
  try {
    await iperf.start(topology);
    for (let r = 0; r < rounds; r++) {
      if (ab !== undefined) await round(topology, true, seconds, plain, nodeArgs, perfDir, iface, [ab]);
      else await round(topology, false, seconds, plain, nodeArgs, perfDir, iface);
      await round(topology, true, seconds, keyed, nodeArgs, perfDir, iface);
      console.log(`round ${r + 1}: plain ${JSON.stringify(plain)}\n         keyed ${JSON.stringify(keyed)}`);
    }
    if (process.env['MSNL_DEBUG_COUNTERS'] !== undefined) {
      for (const host of topology.hosts) console.log(readFileSync(host.log, 'utf8').split('\n').filter((l) => l.includes('DEBUG')).join('\n'));
    }
  } finally {
    await iperf.stop();
    await topology.destroy();
  }
  const f = (n: number, d = 2): string => n.toFixed(d);
  if (process.argv.includes('--udp64') && plain.tcpGbps.length > 0) {
    console.log(`ms${iface} UDP 64 B (kpkt/s received, median of ${rounds} x ${seconds} s): plain ${f(median(plain.tcpGbps), 1)}, keyed ${f(median(keyed.tcpGbps), 1)}, keyed/plain ${f(median(keyed.tcpGbps) / median(plain.tcpGbps))}`);
    console.log(`msnld CPU per datagram, both ends (us): plain ${f(median(plain.cpu), 1)}, keyed ${f(median(keyed.cpu), 1)}`);
    return 0;
  }
  if (plain.tcpGbps.length === 0) {
    console.log(`first reply, ms0..ms3 (ms, median of ${plain.firstMs.length} / ${keyed.firstMs.length}): plain ${f(median(plain.firstMs))}, keyed ${f(median(keyed.firstMs))}`);
    return 0;
  }
  console.log(`ms${iface} TCP 1 stream (Gbit/s, median of ${rounds} x ${seconds} s): plain ${f(median(plain.tcpGbps))}, keyed ${f(median(keyed.tcpGbps))}, keyed/plain ${f(median(keyed.tcpGbps) / median(plain.tcpGbps))}`);
  console.log(`msnld CPU, both ends (% of a core): plain ${f(median(plain.cpu), 0)}, keyed ${f(median(keyed.cpu), 0)}`);
  // CPU per octet moved: what a stream gets on a machine whose cores are all busy.
  const cost = (s: Samples): number => median(s.cpu.map((c, i) => c / 100 / s.tcpGbps[i]!));
  console.log(`msnld CPU seconds per Gbit, both ends: plain ${f(cost(plain), 3)}, keyed ${f(cost(keyed), 3)}, plain/keyed ${f(cost(plain) / cost(keyed))}`);
  console.log(`first reply, ms0..ms3 (ms, median of ${plain.firstMs.length} / ${keyed.firstMs.length}): plain ${f(median(plain.firstMs))}, keyed ${f(median(keyed.firstMs))}`);
  return 0;
}

main().then((code) => process.exit(code), (error: unknown) => {
  console.error(`Error: ${(error as Error).message}`);
  process.exit(2);
});
