// The timeline of one first ping to a new peer (issues 20 and 13): fresh msnld on hosts 1 and 2
// (plain, or keyed with --keyed), tcpdump on the underlay (u0) and on msN in both namespaces, one
// `ping -c 1` from host 1, then every captured packet and every msnld log line of the ping's window
// in time order, in ms after the ping's echo request appeared on host 1's msN. Tells where the
// first reply waits (the call's round trip, a timer, a flush) from where it works.
// Run (root): npx tsc -p tsconfig.json && node dist/bench/first-timeline.js [--keyed] [--iface N[,N..]]
//   [--pings N] (N first pings in a row, each on fresh daemons) [--cpu-prof DIR] (V8 profiles)
//   [--cpu] (no captures: the msnld main threads' CPU over a first and a second ping; with --windows
//   each ping's window on CLOCK_MONOTONIC in us, the clock of V8's profiles, to cut them by ping)
//   [--node-args 'A B'] (more node flags for both msnld, e.g. '--cpu-prof --cpu-prof-dir=D' or
//   '--log-function-events --logfile=F') [--logs DIR] (--cpu: keep both msnld logs, e.g. --trace-deopt's lines)
import { spawn, type ChildProcess } from 'node:child_process';
import { copyFileSync, mkdirSync, readFileSync } from 'node:fs';
import { Topology, type Host } from '../src/demo/topology.js';
import { MsnlPeer, msnlAddress } from './peers/msnl.js';

interface Event {
  at: number;
  where: string;
  text: string;
}

function flag(name: string, fallback: string): string {
  const at = process.argv.indexOf(name);
  return at >= 0 ? process.argv[at + 1] ?? fallback : fallback;
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** Starts tcpdump in a host's namespace on `device`; its lines (`-tt`: epoch seconds) go to `into`. */
function capture(host: Host, device: string, into: Event[]): { child: ChildProcess; ready: Promise<void> } {
  const child = spawn('ip', ['netns', 'exec', host.netns, 'tcpdump', '-tt', '-n', '-l', '-i', device, '-Q', 'inout'], { stdio: ['ignore', 'pipe', 'pipe'] });
  let rest = '';
  child.stdout!.on('data', (chunk: Buffer) => {
    const lines = (rest + chunk.toString('utf8')).split('\n');
    rest = lines.pop() ?? '';
    for (const line of lines) {
      const m = /^(\d+\.\d+) (.*)$/.exec(line);
      if (m !== null) into.push({ at: Number(m[1]) * 1000, where: `h${host.index} ${device}`, text: m[2]!.slice(0, 110) });
    }
  });
  const ready = new Promise<void>((resolve) => {
    child.stderr!.on('data', (chunk: Buffer) => { if (/listening on/.test(chunk.toString('utf8'))) resolve(); });
    child.once('exit', () => resolve());
  });
  return { child, ready };
}

/** The trace lines in a host's msnld log from `since` on. */
function logLines(host: Host, since: number, into: Event[]): void {
  let text = '';
  try {
    text = readFileSync(host.log, 'utf8');
  } catch {
    return;
  }
  for (const line of text.split('\n')) {
    // Lines of a temporary trace (`TRACE <epoch ms> <what>`), when msnld has one.
    const m = /^TRACE (\d+\.\d+) (.*)$/.exec(line);
    if (m === null) continue;
    const at = Number(m[1]);
    if (at >= since) into.push({ at, where: `h${host.index} msnld`, text: m[2]!.slice(0, 110) });
  }
}

async function one(topology: Topology, keyed: boolean, ifaces: readonly number[], nodeArgs: readonly string[]): Promise<void> {
  const peer = new MsnlPeer(topology, keyed, 4, undefined, nodeArgs);
  const events: Event[] = [];
  const captures: ChildProcess[] = [];
  try {
    await peer.setup(topology);
    await sleep(300);
    for (const host of [topology.host(1), topology.host(2)]) {
      for (const device of ['u0', ...ifaces.map((i) => `ms${i}`)]) {
        const c = capture(host, device, events);
        captures.push(c.child);
        await c.ready;
      }
    }
    for (const at of ifaces) {
      const since = Date.now();
      const result = await topology.execAsync(topology.host(1), ['ping', '-c', '1', '-W', '5', msnlAddress(at, 2)], 10_000);
      await sleep(300);
      const seen: Event[] = events.splice(0);
      for (const host of [topology.host(1), topology.host(2)]) logLines(host, since - 5, seen);
      print(`${keyed ? 'keyed' : 'plain'} ms${at}: ${/time=([\d.]+ ms)/.exec(result.stdout)?.[1] ?? result.stdout.trim()}`, seen, at);
    }
  } finally {
    for (const child of captures) child.kill('SIGINT');
    await sleep(200);
    await peer.teardown(topology);
  }
}

/** Prints a ping's events in time order, in ms after its echo request on host 1's msN. */
function print(title: string, events: Event[], iface: number): void {
  console.log(title);
  events.sort((a, b) => a.at - b.at);
  const zero = events.find((e) => e.where === `h1 ms${iface}`)?.at ?? events[0]?.at ?? 0;
  for (const e of events) console.log(`${(e.at - zero).toFixed(3).padStart(9)}  ${e.where.padEnd(8)} ${e.text}`);
}

/** The main thread's CPU ms of a host's msnld so far (/proc/PID/task/PID/schedstat), or NaN. */
function mainThreadCpuMs(host: Host): number {
  const pid = host.daemon?.pid;
  try {
    // `ip netns exec` execs node in place, so the child's PID is msnld's.
    return Number(readFileSync(`/proc/${pid}/task/${pid}/schedstat`, 'utf8').split(' ')[0]) / 1e6;
  } catch {
    return NaN;
  }
}

/** --logs DIR: copies both msnld's logs there (h1.log, h2.log; the topology's folder goes at the end),
 *  e.g. for V8's --trace-deopt lines given with --node-args. */
function keepLogs(hosts: readonly Host[]): void {
  const at = process.argv.indexOf('--logs');
  const dir = at >= 0 ? process.argv[at + 1] : undefined;
  if (dir === undefined) return;
  mkdirSync(dir, { recursive: true });
  for (const host of hosts) copyFileSync(host.log, `${dir}/h${host.index}.log`);
}

/** --cpu: no captures; for each interface a first ping then a second one, with the CPU of both
 *  msnld main threads over each (ms): what a call costs beside what a packet costs. */
async function cpuOnly(topology: Topology, keyed: boolean, ifaces: readonly number[], nodeArgs: readonly string[]): Promise<void> {
  const peer = new MsnlPeer(topology, keyed, 4, undefined, nodeArgs);
  const hosts = [topology.host(1), topology.host(2)];
  const windows = process.argv.includes('--windows');
  try {
    await peer.setup(topology);
    await sleep(300);
    // What each msnld's warm-up did before it answered (its verbose log line), so its cost is seen.
    for (const host of hosts) console.log(`h${host.index} ${/warm-up.*/.exec(readFileSync(host.log, 'utf8'))?.[0] ?? 'no warm-up line'}`);
    for (const at of ifaces) {
      const row: string[] = [];
      for (const which of ['first', 'second']) {
        const before = hosts.map(mainThreadCpuMs);
        const from = process.hrtime.bigint();
        const result = await topology.execAsync(topology.host(1), ['ping', '-c', '1', '-W', '5', msnlAddress(at, 2)], 10_000);
        const after = hosts.map(mainThreadCpuMs);
        // The ping's window on CLOCK_MONOTONIC in us, the clock of V8's profiles (--node-args '--cpu-prof ...').
        if (windows) console.log(`window ms${at} ${which} ${from / 1000n} ${process.hrtime.bigint() / 1000n}`);
        const rtt = /time=([\d.]+) ms/.exec(result.stdout)?.[1] ?? '?';
        row.push(`${which} ${rtt} ms (msnld CPU h1 ${(after[0]! - before[0]!).toFixed(2)}, h2 ${(after[1]! - before[1]!).toFixed(2)} ms)`);
        await sleep(100);
      }
      console.log(`${keyed ? 'keyed' : 'plain'} ms${at}: ${row.join('; ')}`);
    }
    keepLogs(hosts);
  } finally {
    await peer.teardown(topology);
  }
}

async function main(): Promise<number> {
  if (process.getuid?.() !== 0) {
    console.error('Error: bench/first-timeline needs root (it builds network namespaces)');
    return 1;
  }
  const ifaces = flag('--iface', '0').split(',').map(Number);
  const pings = Number(flag('--pings', '1'));
  if (ifaces.some((i) => ![0, 1, 2, 3].includes(i)) || !Number.isInteger(pings) || pings < 1 || pings > 20) {
    console.error('Error: argument "--iface/--pings" is wrong: --iface takes 0..3 (a list: one ping each, in order, on the same daemons), --pings 1..20');
    return 1;
  }
  // --cpu-prof DIR: V8 profiles of both msnld, sampled every 50 µs.
  const nodeArgs = process.argv.includes('--cpu-prof') ? ['--cpu-prof', `--cpu-prof-dir=${flag('--cpu-prof', 'prof')}`, '--cpu-prof-interval', '50'] : [];
  // --node-args 'A B': more flags for both msnld's node (e.g. V8's --log-function-events --logfile=F).
  if (process.argv.includes('--node-args')) nodeArgs.push(...flag('--node-args', '').split(' ').filter((a) => a !== ''));
  const topology = Topology.create({ tag: 'tline', hosts: 2, underlayMtu: 1500 });
  try {
    for (let i = 0; i < pings; i++) {
      if (process.argv.includes('--cpu')) await cpuOnly(topology, process.argv.includes('--keyed'), ifaces, nodeArgs);
      else await one(topology, process.argv.includes('--keyed'), ifaces, nodeArgs);
    }
  } finally {
    await topology.destroy();
  }
  return 0;
}

main().then((code) => process.exit(code), (error: unknown) => {
  console.error(`Error: ${(error as Error).message}`);
  process.exit(2);
});
