// The connection half of `npm run bench -- --scale` (issue 21): one real msnld in host 1 of a
// fresh two-namespace topology and N callers from bench/swarm.ts in host 2, for each N. Per N:
// RSS with all up, idle CPU of msnld (% of a core over 5 s with nothing but probes, taken once
// msnld's path MTU search is over: its size probes down to the steady confirmation rate), underlay
// datagrams/s in that window, the time until all N are up, `msnl conn show` / `msnl health`
// times, the time until msnld holds none of the N after they hang up at once (its control socket's
// interface rows, polled every 25 ms), and the kernel's receive
// drops (UdpRcvbufErrors) meanwhile. Written under the bench JSON key `scale.connections`.
import { spawn } from 'node:child_process';
import { copyFileSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { Topology, UNDERLAY_PORT, sleep, type Host } from '../src/demo/topology.js';
import { cpuPercent, parseProcStatTicks, parseVmRssBytes } from './measure.js';
import { caller } from './swarm.js';
import { Swarm } from './swarm-runner.js';
import { ControlClient } from '../src/control/client.js';
import { DEFAULT_ENDPOINT_CONFIG } from '../src/msnl/types.js';

export interface ConnectionScaleRow {
  readonly connections: number;
  readonly connected: number;
  readonly rssMiB: number | string;
  readonly idleCpuPercent: number | string;
  readonly datagramsPerSecond: number | string;
  readonly allUpS: number | string;
  readonly connShowMs: number | string;
  readonly healthMs: number | string;
  readonly allHungUpS: number | string;
  /** Datagrams the kernel dropped for want of receive buffer in msnld's namespace during the run. */
  readonly rcvbufErrors: number | string;
  /** Calls the swarm made again after a timeout (as msnld redials) before all were up. */
  readonly redialled: number | string;
  /** msnld's CPU (user + system) from the first call until all were up, per call (us): the
   *  figure the machine's other load moves least. */
  readonly callCpuUs: number | string;
  /** Underlay datagrams msnld received and sent from the first call until all were up, per call
   *  (a request and its confirm are 2; first probes and replies inside the window add to it). */
  readonly callDatagrams: number | string;
  /** msnld's CPU from the hang-up until none was left, per connection (us). */
  readonly hangupCpuUs: number | string;
  /** The swarm's own CPU (its processes together) from the first call until all were up, per
   *  call (us): the callers share the machine's cores with msnld. */
  readonly callerCpuUs: number | string;
  /** Seconds from the settle until msnld's size probes fell to the steady confirmation rate (the
   *  path MTU search over, msnl(7) Path MTU), and the size probes it sent meanwhile. */
  readonly searchS: number | string;
  readonly searchProbes: number | string;
}

/** msnld's size probes sent so far (its status counters). */
async function sizeProbesSent(h: Host): Promise<number> {
  return (await new ControlClient(h.socket, { timeoutMs: 10_000 }).status()).counters['size_probes_sent'] ?? NaN;
}

/**
 * Waits until msnld's path MTU search is over, so that the idle window measures idle: its size
 * probes over 2 s fall to what confirming every connection's size every 15 s would cost (one
 * search per path: far less) and well under the size-probe budget (a search held back by the
 * budget runs at it). Bounded by `maxMs`; returns the seconds waited and the probes sent.
 */
async function searchOver(h: Host, n: number, maxMs: number): Promise<{ seconds: number; probes: number }> {
  const started = Date.now();
  const first = await sizeProbesSent(h);
  let last = first;
  for (;;) {
    await sleep(2_000);
    const now = await sizeProbesSent(h);
    const quiet = now - last <= Math.min(2 + (2 * n) / 15, 0.8 * 2 * DEFAULT_ENDPOINT_CONFIG.sizeProbeRatePerSecond);
    last = now;
    if (quiet || Number.isNaN(now) || Date.now() - started >= maxMs) return { seconds: (Date.now() - started) / 1000, probes: now - first };
  }
}

/** Udp counters of a namespace (/proc/net/snmp). */
function udpCounters(t: Topology, h: Host): Record<string, number> {
  const lines = t.exec(h, ['sh', '-c', 'cat /proc/net/snmp']).stdout.split('\n').filter((l) => l.startsWith('Udp:'));
  const [names = '', values = ''] = lines;
  const keys = names.split(/\s+/).slice(1);
  const nums = values.split(/\s+/).slice(1).map(Number);
  return Object.fromEntries(keys.map((k, i) => [k, nums[i] ?? NaN]));
}

function ticksOf(pid: number): number {
  const ticks = parseProcStatTicks(readFileSync(`/proc/${pid}/stat`, 'utf8'));
  return ticks instanceof Error ? NaN : ticks;
}

/** System (kernel) CPU ticks of a process alone (stime, field 15 of /proc/PID/stat). */
function systemTicksOf(pid: number): number {
  try {
    const text = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return Number(text.slice(text.lastIndexOf(')') + 2).trim().split(/\s+/)[12]);
  } catch {
    return NaN;
  }
}

/** CPU ticks of the swarm's processes together. */
function swarmTicks(swarm: Swarm): number {
  return swarm.pids.reduce((sum, pid) => {
    try {
      return sum + ticksOf(pid);
    } catch {
      return NaN;
    }
  }, 0);
}

function timed(t: Topology, h: Host, args: readonly string[]): number | string {
  const started = process.hrtime.bigint();
  const r = t.msnl(h, args, 60_000);
  const ms = Number(process.hrtime.bigint() - started) / 1e6;
  return r.code === 0 ? ms : `exit ${r.code}: ${r.stderr.trim().split('\n')[0] ?? ''}`.slice(0, 120);
}

/** msnld's open connections, from its control socket directly (no CLI process per poll). */
async function openConnections(h: Host): Promise<number> {
  const rows = await new ControlClient(h.socket, { timeoutMs: 10_000 }).interfaces();
  return rows.reduce((sum, r) => sum + r.connections, 0);
}

async function oneSize(n: number, log: (text: string) => void, nodeArgs: readonly string[]): Promise<ConnectionScaleRow> {
  const t = Topology.create({ tag: 'scale', hosts: 2 });
  const [server, client] = [t.host(1), t.host(2)];
  let swarm: Swarm | undefined;
  let connected = 0;
  const fail = (reason: string): ConnectionScaleRow => ({ connections: n, connected, rssMiB: reason, idleCpuPercent: reason, datagramsPerSecond: reason, allUpS: reason, connShowMs: reason, healthMs: reason, allHungUpS: reason, rcvbufErrors: reason, redialled: reason, callCpuUs: reason, callDatagrams: reason, hangupCpuUs: reason, callerCpuUs: reason, searchS: reason, searchProbes: reason });
  try {
    t.mustMsnl(server, ['host', 'set', 'address', server.msnlAddress]);
    t.mustMsnl(server, ['ifconfig', 'ms0', '10.0.0.1/8', 'up']);
    t.mustMsnl(server, ['route', 'add', '128.233.0.0/16', 'via', `${client.underlay}:${UNDERLAY_PORT + 1}`, 'auth', 'none']);
    const file = path.join(t.dir, 'swarm.csv');
    writeFileSync(file, Array.from({ length: n }, (_, i) => `${caller(i + 1).ip}/32,${caller(i + 1).msnl},swarm`).join('\n') + '\n');
    t.mustMsnl(server, ['map', 'import', file]);
    const daemon = await t.startDaemon(server, ['--log-level', 'info'], nodeArgs);
    const pid = daemon.pid ?? 0;
    const drops0 = udpCounters(t, server)['RcvbufErrors'] ?? NaN;
    swarm = new Swarm(client, server, n);
    await swarm.bound(120_000);
    const callTicks0 = ticksOf(pid);
    const callSystem0 = systemTicksOf(pid);
    const swarmTicks0 = swarmTicks(swarm);
    const callUdp0 = udpCounters(t, server);
    const callerDrops0 = udpCounters(t, client)['RcvbufErrors'] ?? NaN;
    // SCALE_PERF=FILE: `perf record -a -g` of the whole machine from the first call until all are up
    // (msnld, the callers and the kernel's work for both; node's --perf-basic-prof names JavaScript).
    const perfFile = process.env['SCALE_PERF'];
    const perf = perfFile === undefined ? undefined : spawn('perf', ['record', '-a', '-g', '-F', '2000', '-o', `${perfFile}.${n}`], { stdio: 'ignore' });
    if (perf !== undefined) await sleep(300);
    swarm.call();
    const up = await swarm.up(180_000);
    if (perf !== undefined) {
      perf.kill('SIGINT');
      await new Promise((resolve) => perf.once('exit', resolve));
    }
    const callCpuUs = ((ticksOf(pid) - callTicks0) * 10_000) / n;
    const callerCpuUs = ((swarmTicks(swarm) - swarmTicks0) * 10_000) / n;
    const cpuText = `msnld ${callCpuUs.toFixed(0)} us of CPU (system ${(((systemTicksOf(pid) - callSystem0) * 10_000) / n).toFixed(0)}), the callers ${callerCpuUs.toFixed(0)} us on the same cores`;
    log(`scale ${n}: per call, ${cpuText}`);
    const callUdp1 = udpCounters(t, server);
    const callDatagrams = ((callUdp1['InDatagrams'] ?? 0) - (callUdp0['InDatagrams'] ?? 0) + (callUdp1['OutDatagrams'] ?? 0) - (callUdp0['OutDatagrams'] ?? 0)) / n;
    connected = up.connected;
    if (up.connected < n) {
      const why = `${up.connected} of ${n} up after ${up.seconds} s (per call ${cpuText}); failures: ${up.failures}`;
      log(`scale ${n}: ${why}`);
      return fail(why);
    }
    const allUpS = up.seconds;
    log(`scale ${n}: all up in ${up.seconds} s; the callers sent ${up.resent} requests again and made ${up.redialled} calls again`);
    const c = (await new ControlClient(server.socket, { timeoutMs: 10_000 }).status()).counters;
    log(`scale ${n}: the callers' namespace dropped ${(udpCounters(t, client)['RcvbufErrors'] ?? NaN) - callerDrops0} datagrams for want of receive buffer`);
    log(`scale ${n}: msnld resent ${c['confirms_resent']} confirms, left ${c['confirms_crossed']} crossed requests unanswered, dropped ${c['requests_stale']} stale and rate-limited ${c['requests_rate_limited']}`);
    // Settle: the callers' first probes (within one 2 s interval of the call), their first asking
    // probe (2 s later) and the probe after it, from which they keep to the interval msnld asks
    // for (msnl(7) Probes: 5 s from 5000 connections on), so only the steady probe rate is left.
    await sleep(7_000);
    const searchTicks0 = ticksOf(pid);
    const search = await searchOver(server, n, 120_000);
    const searchCpu = cpuPercent(ticksOf(pid) - searchTicks0, search.seconds);
    log(`scale ${n}: the path MTU search was over ${search.seconds} s after the settle (${search.probes} size probes meanwhile, msnld at ${searchCpu.toFixed(1)} % of a core)`);
    const rss = parseVmRssBytes(readFileSync(`/proc/${pid}/status`, 'utf8'));
    const udp0 = udpCounters(t, server);
    const ticks0 = ticksOf(pid);
    const seconds = 5;
    await sleep(seconds * 1000);
    const ticks1 = ticksOf(pid);
    const udp1 = udpCounters(t, server);
    const datagrams = ((udp1['InDatagrams'] ?? 0) - (udp0['InDatagrams'] ?? 0) + (udp1['OutDatagrams'] ?? 0) - (udp0['OutDatagrams'] ?? 0)) / seconds;
    const connShowMs = timed(t, server, ['-j', 'conn', 'show']);
    const healthMs = timed(t, server, ['-j', 'health']);
    // SCALE_PERF=FILE also records the hang-up window, from the hang-up until none is left (FILE.N.hangup).
    const hangPerf = perfFile === undefined ? undefined : spawn('perf', ['record', '-a', '-g', '-F', '2000', '-o', `${perfFile}.${n}.hangup`], { stdio: 'ignore' });
    if (hangPerf !== undefined) await sleep(300);
    const hungTicks0 = ticksOf(pid);
    const hungSwarm0 = swarmTicks(swarm);
    const hung = Date.now();
    const sent = await swarm.hangup(30_000);
    const swarmDoneS = (Date.now() - hung) / 1000;
    let open = await openConnections(server);
    while (open > 0 && Date.now() - hung < 30_000) {
      await sleep(25);
      open = await openConnections(server);
    }
    const hangupCpuUs = ((ticksOf(pid) - hungTicks0) * 10_000) / n;
    if (hangPerf !== undefined) {
      hangPerf.kill('SIGINT');
      await new Promise((resolve) => hangPerf.once('exit', resolve));
    }
    log(`scale ${n}: per hang-up, msnld ${hangupCpuUs.toFixed(0)} us of CPU, the callers ${(((swarmTicks(swarm) - hungSwarm0) * 10_000) / n).toFixed(0)} us (their polling included)`);
    log(`scale ${n}: the swarm had sent its ${sent} releases after ${swarmDoneS} s`);
    const allHungUpS = open === 0 ? (Date.now() - hung) / 1000 : `${connected - open} of ${connected} released in 30 s`;
    const drops = (udpCounters(t, server)['RcvbufErrors'] ?? NaN) - drops0;
    const row: ConnectionScaleRow = {
      connections: n, connected, rssMiB: rss instanceof Error ? rss.message : rss / 2 ** 20, idleCpuPercent: cpuPercent(ticks1 - ticks0, seconds),
      datagramsPerSecond: datagrams, allUpS, connShowMs, healthMs, allHungUpS, rcvbufErrors: drops, redialled: up.redialled, callCpuUs, callDatagrams, hangupCpuUs, callerCpuUs,
      searchS: search.seconds, searchProbes: search.probes,
    };
    log(`scale ${n}: ${JSON.stringify(row)}`);
    return row;
  } catch (error) {
    const why = (error as Error).message.split('\n')[0] ?? 'failed';
    log(`scale ${n}: failed: ${why}`);
    return fail(why);
  } finally {
    swarm?.stop();
    // SCALE_KEEP_LOG=FILE: msnld's log (its node's traces too, e.g. --trace-opt) is kept as FILE.N,
    // and what the swarm processes said (SWARM_NODE_ARGS traces too) as FILE.swarm.N.
    const keep = process.env['SCALE_KEEP_LOG'];
    if (keep !== undefined) {
      copyFileSync(server.log, `${keep}.${n}`);
      if (swarm !== undefined) writeFileSync(`${keep}.swarm.${n}`, swarm.output);
    }
    await t.destroy();
  }
}

/** The connection table of `--scale`: one fresh topology per size. */
export async function measureConnectionScale(sizes: readonly number[], log: (text: string) => void, nodeArgs: readonly string[] = []): Promise<ConnectionScaleRow[]> {
  const rows: ConnectionScaleRow[] = [];
  for (const n of sizes) rows.push(await oneSize(n, log, nodeArgs));
  return rows;
}

/** The rows as a text table. */
export function renderConnectionScale(rows: readonly ConnectionScaleRow[]): string {
  const f = (v: number | string, digits: number): string => (typeof v === 'number' ? v.toFixed(digits) : 'fail');
  const lines = ['| connections | up | RSS MiB | idle CPU % | datagrams/s | all up s | calls made again | conn show ms | health ms | all hang up s | rcvbuf drops | msnld CPU per call us | datagrams per call | per hang-up us | callers CPU per call us |', '|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|'];
  for (const r of rows) {
    lines.push(`| ${r.connections} | ${r.connected} | ${f(r.rssMiB, 0)} | ${f(r.idleCpuPercent, 1)} | ${f(r.datagramsPerSecond, 0)} | ${f(r.allUpS, 2)} | ${f(r.redialled, 0)} | ${f(r.connShowMs, 0)} | ${f(r.healthMs, 0)} | ${f(r.allHungUpS, 2)} | ${f(r.rcvbufErrors, 0)} | ${f(r.callCpuUs, 0)} | ${f(r.callDatagrams, 1)} | ${f(r.hangupCpuUs, 0)} | ${f(r.callerCpuUs, 0)} |`);
  }
  // Every failed cell says why underneath, once per distinct reason.
  const reasons = new Set<string>();
  for (const r of rows) for (const value of Object.values(r)) if (typeof value === 'string') reasons.add(`fail at ${r.connections} connections: ${value}`);
  if (reasons.size > 0) lines.push('', ...reasons);
  return lines.join('\n');
}
