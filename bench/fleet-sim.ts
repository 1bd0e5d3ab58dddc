// The light clients of `npm run bench -- --fleet` (bench/fleet.ts), run inside the etcd host's
// namespace: HOSTS simulated hosts, each with its own lease and a record of PREFIXES prefixes as
// msnld writes it, kept alive; then timed puts, each until the watching msnld has stored the new
// prefix and reconciled; then, on cue from the parent, a compaction for the re-list figure.
// Speaks to the parent by lines on stdout (`phase ...`, `result {json}`) and stdin (`go`).
import { createInterface } from 'node:readline';
import { readFileSync } from 'node:fs';
import { EtcdClient } from '../src/fleet/etcd.js';
import { encodeRecord, recordKey, type HostRecord } from '../src/fleet/record.js';
import { openStore } from '../src/store/store.js';
import { ControlClient } from '../src/control/client.js';

interface Args { etcd: string; hosts: number; prefixes: number; samples: number; db: string; socket: string; pid: number }

function parseArgs(argv: readonly string[]): Args {
  const get = (name: string): string => {
    const i = argv.indexOf(`--${name}`);
    const value = i >= 0 ? argv[i + 1] : undefined;
    if (value === undefined) throw new Error(`fleet-sim needs --${name}`);
    return value;
  };
  return { etcd: get('etcd'), hosts: Number(get('hosts')), prefixes: Number(get('prefixes')), samples: Number(get('samples')), db: get('db'), socket: get('socket'), pid: Number(get('pid')) };
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));
const TICKS = 100; // USER_HZ

/** CPU seconds (user + system) and RSS (MiB) of a process, from /proc. */
export function procFigures(pid: number): { cpuS: number; rssMiB: number } {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const cpuS = (Number(fields[11]) + Number(fields[12])) / TICKS;
  const rss = /^VmRSS:\s+(\d+) kB/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return { cpuS, rssMiB: Number(rss?.[1] ?? 0) / 1024 };
}

function simRecord(i: number, prefixes: number, extra: number[] = []): HostRecord {
  const msnl = (129 << 24 | (i >> 8) << 8 | (i & 255)) >>> 0; // 129.0.x.y
  const list = Array.from({ length: prefixes }, (_, j) => ({ address: (10 << 24 | (100 + j) << 16 | i) >>> 0, length: 32 }));
  for (const e of extra) list.push({ address: (10 << 24 | 250 << 16 | e) >>> 0, length: 32 });
  return { msnlAddress: msnl, endpoints: [{ host: `198.51.100.${(i % 250) + 1}`, port: 7010 }], publicKey: null, prefixes: list };
}

async function pool<T>(items: readonly T[], width: number, body: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(Array.from({ length: width }, async () => {
    while (next < items.length) await body(items[next++]!);
  }));
}

function percentile(sorted: readonly number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((sorted.length - 1) * p))] ?? NaN;
}

async function main(): Promise<void> {
  const args = parseArgs(process.argv.slice(2));
  const client = new EtcdClient({ urls: [new URL(args.etcd)], timeoutMs: 10_000 });
  const store = openStore(args.db, { readonly: true });
  const control = new ControlClient(args.socket, { timeoutMs: 2000 });
  const say = (line: string): void => void process.stdout.write(`${line}\n`);
  const stdin = createInterface({ input: process.stdin })[Symbol.asyncIterator]();

  // Register every host: a lease and a record each.
  const ids = Array.from({ length: args.hosts }, (_, i) => i + 1);
  const leases = new Map<number, string>();
  const cpu0 = procFigures(args.pid);
  let started = Date.now();
  await pool(ids, 32, async (i) => {
    const lease = await client.grant(60);
    leases.set(i, lease);
    await client.put(recordKey(simRecord(i, args.prefixes).msnlAddress), encodeRecord(simRecord(i, args.prefixes)), lease);
  });
  const registerMs = Date.now() - started;
  let stopKeepAlive = false;
  const keepAlive = (async () => {
    while (!stopKeepAlive) {
      for (let t = 0; t < 200 && !stopKeepAlive; t++) await sleep(100);
      if (!stopKeepAlive) await pool([...leases.values()], 16, async (l) => void (await client.keepAlive(l).catch(() => 0)));
    }
  })();
  say(`phase registered ${args.hosts} hosts in ${registerMs} ms`);
  // Until msnld has applied all of them.
  started = Date.now();
  while (store.fleet().hosts().length < args.hosts + 1 && Date.now() - started < 300_000) await sleep(50);
  const syncMs = Date.now() - started;
  const steady = procFigures(args.pid);
  say(`phase msnld applied ${store.fleet().hosts().length - 1} hosts ${syncMs} ms after the last put`);

  // Timed puts.
  const stored: number[] = [];
  const reconciled: number[] = [];
  const cpuBefore = procFigures(args.pid);
  const wallBefore = Date.now();
  for (let s = 0; s < args.samples; s++) {
    const i = (s * 7919) % args.hosts + 1;
    const record = simRecord(i, args.prefixes, [s + 1]);
    const target = { address: (10 << 24 | 250 << 16 | (s + 1)) >>> 0, length: 32 };
    const before = (await control.status()).counters.reconciles ?? 0;
    const t0 = performance.now();
    await client.put(recordKey(record.msnlAddress), encodeRecord(record), leases.get(i)!);
    while (store.getMapping(target) === undefined && performance.now() - t0 < 10_000) await sleep(2);
    stored.push(performance.now() - t0);
    while (((await control.status()).counters.reconciles ?? 0) <= before && performance.now() - t0 < 10_000) await sleep(2);
    reconciled.push(performance.now() - t0);
    await sleep(20);
  }
  const cpuAfter = procFigures(args.pid);
  const churnCpu = (cpuAfter.cpuS - cpuBefore.cpuS) / ((Date.now() - wallBefore) / 1000);
  stored.sort((a, b) => a - b);
  reconciled.sort((a, b) => a - b);
  say('phase samples done; stop msnld and send go');
  await stdin.next();
  // msnld is down: one change, then compact everything up to now, so its watch revision is gone.
  const extra = simRecord(1, args.prefixes, [9999 & 0xffff]);
  const revision = await client.put(recordKey(extra.msnlAddress), encodeRecord(extra), leases.get(1)!);
  await client.compact(revision);
  say(`phase compacted at revision ${revision}; start msnld`);
  await stdin.next();
  stopKeepAlive = true;
  await keepAlive;
  say(`result ${JSON.stringify({
    hosts: args.hosts, prefixes: args.prefixes, samples: args.samples, registerMs, syncMs, syncCpuS: steady.cpuS - cpu0.cpuS,
    storedP50: percentile(stored, 0.5), storedP99: percentile(stored, 0.99),
    tableP50: percentile(reconciled, 0.5), tableP99: percentile(reconciled, 0.99), tableMax: reconciled[reconciled.length - 1],
    rssMiB: cpuAfter.rssMiB, churnCpuPercent: churnCpu * 100,
  })}`);
  store.close();
}

main().then(() => process.exit(0), (error: unknown) => {
  process.stdout.write(`error ${(error as Error).message}\n`);
  process.exit(1);
});
