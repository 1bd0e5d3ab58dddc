// npm run bench -- --fleet [--hosts N] [--samples N]: one real etcd (Debian etcd-server) in
// namespace h2, one real msnld in h1 watching it with --cluster, and N simulated hosts
// (bench/fleet-sim.ts, default 2 000, 10 prefixes each) with leases and records like msnld's.
// Prints put -> msnld's table p50/p99, msnld RSS and CPU, and the full re-list time after a
// compaction. Removes everything it made, also on failure.
import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, openSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { PACKAGE_ROOT, Topology, sleep } from '../src/demo/topology.js';

function flag(argv: readonly string[], name: string, fallback: number): number {
  const i = argv.indexOf(name);
  if (i < 0) return fallback;
  const value = Number(argv[i + 1]);
  if (!Number.isInteger(value) || value < 1) throw new Error(`argument "${argv[i + 1] ?? ''}" is wrong: ${name} takes a whole number, 1 or more`);
  return value;
}

function startEtcd(t: Topology, h: { netns: string; underlay: string }): ChildProcess {
  const log = openSync(path.join(t.dir, 'etcd.log'), 'a');
  const url = `http://${h.underlay}:2379`;
  const child = spawn('ip', ['netns', 'exec', h.netns, 'etcd', '--name', 'bench', '--data-dir', path.join(t.dir, 'etcd'),
    '--listen-client-urls', url, '--advertise-client-urls', url, '--listen-peer-urls', 'http://127.0.0.1:2380',
    '--initial-advertise-peer-urls', 'http://127.0.0.1:2380', '--initial-cluster', 'bench=http://127.0.0.1:2380', '--quota-backend-bytes', String(2 << 30)],
  { stdio: ['ignore', log, log] });
  closeSync(log);
  return child;
}

export async function runFleetBench(argv: readonly string[]): Promise<number> {
  const hosts = flag(argv, '--hosts', 2000);
  const samples = flag(argv, '--samples', 200);
  const prefixes = 10;
  const topo = Topology.create({ tag: 'fleetbench', hosts: 2 });
  let etcd: ChildProcess | undefined;
  let sim: ChildProcess | undefined;
  try {
    const [h1, h2] = [topo.host(1), topo.host(2)];
    const url = `http://${h2.underlay}:2379`;
    etcd = startEtcd(topo, h2);
    await sleep(1500);
    topo.mustMsnl(h1, ['host', 'set', 'address', h1.msnlAddress]);
    topo.mustMsnl(h1, ['ifconfig', 'ms0', '10.0.0.1/24', 'up']);
    const startMsnld = async (): Promise<number> => {
      const child = await topo.startDaemon(h1, ['--cluster', url, '--log-level', 'info']);
      if (child.pid === undefined) throw new Error('msnld has no pid');
      return child.pid; // ip netns exec execs msnld: the same pid
    };
    let pid = await startMsnld();
    console.log(`fleet bench: ${hosts} simulated hosts x ${prefixes} prefixes, ${samples} timed puts; etcd ${url}; msnld pid ${pid}`);
    sim = spawn('ip', ['netns', 'exec', h2.netns, process.execPath, path.join(PACKAGE_ROOT, 'dist', 'bench', 'fleet-sim.js'),
      '--etcd', url, '--hosts', String(hosts), '--prefixes', String(prefixes), '--samples', String(samples),
      '--db', h1.db, '--socket', h1.socket, '--pid', String(pid)], { stdio: ['pipe', 'pipe', 'inherit'] });
    const lines = createInterface({ input: sim.stdout! })[Symbol.asyncIterator]();
    let result: Record<string, number> | undefined;
    let relistMs: number | undefined;
    let relistHosts: number | undefined;
    for (;;) {
      const next = await lines.next();
      if (next.done === true) break;
      const line = next.value;
      if (line.startsWith('error ')) throw new Error(`simulator: ${line.slice(6)}`);
      if (line.startsWith('result ')) {
        result = JSON.parse(line.slice(7)) as Record<string, number>;
        break;
      }
      console.log(`  ${line}`);
      if (line.startsWith('phase samples done')) {
        await topo.stopDaemon(h1);
        sim.stdin!.write('go\n');
      } else if (line.startsWith('phase compacted')) {
        const logStart = readFileSync(h1.log, 'utf8').length;
        pid = await startMsnld();
        const deadline = Date.now() + 120_000;
        while (Date.now() < deadline) {
          const m = /fleet: listed (\d+) hosts at revision \d+ in (\d+) ms/.exec(readFileSync(h1.log, 'utf8').slice(logStart));
          if (m !== null) {
            relistHosts = Number(m[1]);
            relistMs = Number(m[2]);
            break;
          }
          await sleep(100);
        }
        sim.stdin!.write('go\n');
      }
    }
    if (result === undefined) throw new Error('the simulator gave no result');
    const f = (n: number | undefined, d = 1): string => (n === undefined || Number.isNaN(n) ? '-' : n.toFixed(d));
    console.log(`register ${result.hosts} hosts (lease + put each, 32 at a time): ${result.registerMs} ms`);
    console.log(`msnld applied them all ${result.syncMs} ms after the last put; its CPU while they registered and synced: ${f(result.syncCpuS, 2)} s`);
    console.log(`put -> stored in msnld's database: p50 ${f(result.storedP50)} ms, p99 ${f(result.storedP99)} ms`);
    console.log(`put -> msnld's table (reconciled): p50 ${f(result.tableP50)} ms, p99 ${f(result.tableP99)} ms, max ${f(result.tableMax)} ms`);
    console.log(`msnld RSS ${f(result.rssMiB)} MiB, CPU ${f(result.churnCpuPercent)} % of a core during the timed puts`);
    console.log(`re-list after compaction: ${relistHosts ?? '-'} hosts in ${relistMs ?? '-'} ms (msnld's own figure, range + decode + one transaction)`);
    return 0;
  } finally {
    if (sim !== undefined && sim.exitCode === null) sim.kill('SIGKILL');
    if (etcd !== undefined && etcd.exitCode === null) etcd.kill('SIGKILL');
    await topo.destroy();
  }
}
