// npm run bench: msnl (plain, and keyed: `msnl ms0 (auth)`) against OpenVPN (no crypto),
// wireguard-go, the kernel VXLAN tunnel and the bare underlay, over the two-namespace veth topology
// of src/demo/topology.ts (underlay MTU 1500). Prints one table with the ratios msnl/OpenVPN,
// msnl/kernel and keyed msnl/wireguard-go, /plain, /OpenVPN and keyed ms3/kernel, writes the raw samples as JSON
// into bench/results/, and removes everything it created (also on failure and on SIGINT/SIGTERM).
// Flags: --quick (a smoke run: 1 s runs, 1 repetition, smaller control figures), --out FILE,
// --only NAME[,NAME] (only those peers' data runs: no control figures, no lookups), --seconds N,
// --repeat N (bench/flags.ts);
// --fleet [--hosts N] [--samples N] runs the fleet bench of bench/fleet.ts instead;
// --scale runs the scale tables instead: mappings (bench/scale.ts, no root needed) and, as root,
// connections (bench/scale-connections.ts; 1 000 with --quick).
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { MSNLD, PACKAGE_ROOT, Topology, missingTools, run } from '../src/demo/topology.js';
import { measureRss, rssOf, timeApply, timeImport, writeMappingFile } from './control.js';
import { measurePrefixLookups } from './lookups.js';
import { runFleetBench } from './fleet.js';
import { measureConnectionScale, renderConnectionScale } from './scale-connections.js';
import { underlayPeer, vxlanPeer } from './peers/kernel.js';
import { AUTH_LABEL, AUTH_MS3_LABEL, MsnlPeer, SMALL_PATH_LABEL, msnlAddress } from './peers/msnl.js';
import { NodeRelayPeer } from './peers/node-relay.js';
import { OpenvpnPeer } from './peers/openvpn.js';
import type { Peer } from './peers/peer.js';
import { WireguardPeer } from './peers/wireguard.js';
import { runScale } from './scale.js';
import { renderTable, type Column, type Figure, type RatioSpec } from './report.js';
import { IperfServer, emptyFigures, firstReply, measurePath, type PathFigures } from './traffic.js';
import { parseFlags, type Settings } from './flags.js';

export const FIGURES: readonly Figure[] = [
  { key: 'tcp1Gbps', title: 'iperf3 TCP 1 stream', unit: 'Gbit/s', digits: 2 },
  { key: 'tcp4Gbps', title: 'iperf3 TCP -P 4', unit: 'Gbit/s', digits: 2 },
  { key: 'udp64Kpps', title: 'iperf3 UDP 64 B received', unit: 'kpkt/s', digits: 1 },
  { key: 'pingAvgMs', title: 'ping RTT avg', unit: 'ms', digits: 3 },
  { key: 'pingMedianMs', title: 'ping RTT median', unit: 'ms', digits: 3 },
  { key: 'cpuPercent', title: 'tunnel CPU, both ends, TCP 1', unit: '% of a core', digits: 0 },
  { key: 'udp64CpuUs', title: 'tunnel CPU per 64 B datagram received', unit: 'us', digits: 1 },
  { key: 'firstReplyMs', title: 'first reply to a new peer', unit: 'ms', digits: 2 },
  { key: 'mapImportMs', title: 'msnl map import', unit: 'ms', digits: 0 },
  { key: 'applyMs', title: 'msnl apply, whole conf', unit: 'ms', digits: 0 },
  { key: 'lookupsM', title: 'longest-prefix lookups', unit: 'M/s', digits: 1 },
  { key: 'rssBaselineMiB', title: 'msnld RSS after the data runs', unit: 'MiB', digits: 1 },
  { key: 'rssMiB', title: 'msnld RSS, mappings + conns', unit: 'MiB', digits: 1 },
];

const KERNEL = 'kernel VXLAN';
export const RATIOS: readonly RatioSpec[] = [
  { over: 'msnl ms0', under: 'OpenVPN', label: 'ms0/OpenVPN' },
  { over: 'msnl ms0', under: KERNEL, label: 'ms0/kernel' },
  { over: 'msnl ms3', under: 'OpenVPN', label: 'ms3/OpenVPN' },
  { over: 'msnl ms3', under: KERNEL, label: 'ms3/kernel' },
  // Secure MSNL against the tunnel users hold it to (which also encrypts), and its cost over plain.
  { over: AUTH_LABEL, under: 'wireguard-go', label: 'auth/wireguard-go' },
  { over: AUTH_LABEL, under: 'msnl ms0', label: 'auth/ms0' },
  // Issue 20: keyed ms3 against the kernel tunnel (target >= 0.5), keyed 64-byte UDP against OpenVPN (>= 2).
  { over: AUTH_MS3_LABEL, under: KERNEL, label: 'ms3 auth/kernel' },
  { over: AUTH_LABEL, under: 'OpenVPN', label: 'auth/OpenVPN' },
  { over: AUTH_MS3_LABEL, under: 'msnl ms3', label: 'ms3 auth/plain' },
  { over: 'msnl ms0 IPv6', under: 'msnl ms0', label: 'ms0 IPv6/IPv4' },
  // The same ms0 over 1400-octet underlay links (path MTU search, segments cut to the path): target >= 0.85.
  { over: SMALL_PATH_LABEL, under: 'msnl ms0', label: 'ms0 u1400/u1500' },
];

const TOOLS: ReadonlyArray<readonly [string, string]> = [
  ['iperf3', 'iperf3'], ['openvpn', 'openvpn'], ['wireguard-go', 'wireguard-go'], ['wg', 'wireguard-tools'],
  ['ping', 'iputils-ping'], ['ss', 'iproute2'], ['ip', 'iproute2'],
];

function installMissing(): void {
  const missing = [...new Set(missingTools(TOOLS))];
  if (missing.length === 0) return;
  console.log(`installing ${missing.join(' ')} from Debian packages`);
  const env = ['env', 'DEBIAN_FRONTEND=noninteractive'];
  let result = run([...env, 'apt-get', 'install', '-y', '--no-install-recommends', ...missing], 600_000);
  if (result.code !== 0) {
    run(['apt-get', 'update'], 300_000);
    result = run([...env, 'apt-get', 'install', '-y', '--no-install-recommends', ...missing], 600_000);
  }
  if (result.code !== 0) console.log(`failed to install ${missing.join(' ')}: ${result.stderr.trim().split('\n').slice(-2).join(' ')}; their rows will fail`);
}

const log = (text: string): void => console.log(`bench: ${text}`);

async function main(): Promise<number> {
  if (process.argv.includes('--fleet')) {
    if (process.getuid?.() !== 0) {
      console.error('Error: bench needs root (it builds network namespaces)');
      return 1;
    }
    return runFleetBench(process.argv.slice(2).filter((a) => a !== '--fleet'));
  }
  const settings = parseFlags(process.argv.slice(2));
  if (settings.scale) {
    // The connection table needs root (namespaces, a real msnld); the mapping table does not.
    const sizes = settings.quick ? [1_000] : [1_000, 10_000, 20_000, 50_000];
    const connections = process.getuid?.() === 0
      ? async (): Promise<{ rows: unknown[]; text: string }> => {
          const rows = await measureConnectionScale(sizes, log);
          return { rows, text: renderConnectionScale(rows) };
        }
      : undefined;
    return runScale({ quick: settings.quick, out: settings.out, packageRoot: PACKAGE_ROOT, connections });
  }
  if (process.getuid?.() !== 0) {
    console.error('Error: bench needs root (it builds network namespaces)');
    return 1;
  }
  const started = Date.now();
  installMissing();
  if (!existsSync(MSNLD)) log(`${MSNLD} is missing: run npm run build first; msnl rows will fail`);

  // Dual-stack underlay: every peer runs over IPv4, and msnl once more over IPv6.
  const topology = Topology.create({ tag: 'bench', hosts: 2, underlayMtu: 1500, underlayFamily: 'dual' });
  const iperf = new IperfServer();
  const msnl = new MsnlPeer(topology);
  // Keyed before plain: plain msnl's control figures load host 1's database with mappings.
  const msnlAuth = new MsnlPeer(topology, true);
  const msnl6 = new MsnlPeer(topology, false, 6);
  // Last: it lowers the underlay links' MTU to 1400 for its runs (and puts 1500 back).
  const msnlSmall = new MsnlPeer(topology, false, 4, 1400);
  const all: Peer[] = [underlayPeer, vxlanPeer, new WireguardPeer(), new OpenvpnPeer(), new NodeRelayPeer(), msnlAuth, msnl, msnl6, msnlSmall];
  const only = settings.only;
  const peers = only === undefined ? all : all.filter((peer) => only.includes(peer.name));
  let active: Peer | undefined;
  const cleanup = async (): Promise<void> => {
    await iperf.stop();
    if (active !== undefined) await active.teardown(topology).catch(() => undefined);
    await topology.destroy();
  };
  const onSignal = (signal: NodeJS.Signals): void => {
    log(`${signal}: removing what the benchmark made`);
    void cleanup().finally(() => process.exit(130));
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);

  const columns = new Map<string, Record<string, number[] | string | undefined>>();
  const notes: string[] = [];
  try {
    await iperf.start(topology);
    for (const peer of peers) {
      active = peer;
      log(`${peer.name}: setting up`);
      try {
        const paths = await peer.setup(topology);
        const figures: { label: string; figures: PathFigures }[] = [];
        // The first packet of each fresh path, before anything else has used it.
        for (const p of paths) {
          const first = await firstReply(topology, p);
          const samples: number[] = first instanceof Error ? [] : [first];
          let more: number | Error;
          if (peer instanceof MsnlPeer) {
            // One more fresh call per row, on an interface nothing has used yet (ms1 for ms0, ms2 for ms3).
            const spare = p.label === 'msnl ms3' || p.label === AUTH_MS3_LABEL ? 2 : 1;
            more = await firstReply(topology, { ...p, client: msnlAddress(spare, 1), server: msnlAddress(spare, 2) });
          } else {
            // The peers are cheap to rebuild: tear down, set up again, and time the first packet once more.
            await peer.teardown(topology);
            await peer.setup(topology);
            more = await firstReply(topology, p);
          }
          if (!(more instanceof Error)) samples.push(more);
          const measured = await measurePath(topology, p, () => peer.pids(), settings);
          measured.firstReplyMs = samples.length > 0 ? samples : (first as Error).message;
          const withRss: PathFigures & { rssBaselineMiB?: number[] | string } = measured;
          if (peer === msnlAuth || peer === msnl) withRss.rssBaselineMiB = daemonRss(topology);
          figures.push({ label: p.label, figures: withRss });
          log(`${p.label}: ${JSON.stringify(measured)}`);
        }
        for (const { label, figures: f } of figures) columns.set(label, { ...f });
        if (peer === msnl && only === undefined) await controlFigures(topology, settings, columns);
      } catch (error) {
        const reason = (error as Error).message.split('\n')[0] ?? 'failed';
        log(`${peer.name}: ${reason}`);
        const labels = peer === msnl ? ['msnl ms0', 'msnl ms3'] : peer === msnlAuth ? [AUTH_LABEL, AUTH_MS3_LABEL] : peer === msnl6 ? ['msnl ms0 IPv6'] : peer === msnlSmall ? [SMALL_PATH_LABEL] : [peer.name];
        for (const label of labels) columns.set(label, { ...emptyFigures(reason), ...(label === 'msnl ms0' ? { mapImportMs: reason, rssMiB: reason } : {}) });
        if (peer === msnl) notes.push(`msnl failed: ${(error as Error).message}\n${topology.tail(topology.host(1), 8)}`);
      } finally {
        await peer.teardown(topology).catch(() => undefined);
        active = undefined;
      }
      if (peer instanceof MsnlPeer && peer.note !== undefined) notes.push(peer.note);
    }
  } finally {
    await cleanup();
    process.removeListener('SIGINT', onSignal);
    process.removeListener('SIGTERM', onSignal);
  }
  // The lookup figure needs no network: it is the table the packet path reads.
  const lookups = only === undefined ? measurePrefixLookups(settings.prefixes, settings.quick ? 2 : 4) : undefined;
  if (lookups !== undefined) {
    const ms0 = columns.get('msnl ms0') ?? {};
    ms0['lookupsM'] = lookups.lookupsPerSecond.map((r) => r / 1e6);
    columns.set('msnl ms0', ms0);
  }

  const order = ['underlay', KERNEL, 'wireguard-go', 'OpenVPN', 'node relay', 'msnl ms0', AUTH_LABEL, 'msnl ms3', AUTH_MS3_LABEL, 'msnl ms0 IPv6', SMALL_PATH_LABEL];
  const table: Column[] = order.filter((label) => columns.has(label)).map((label) => ({ label, values: columns.get(label) ?? {} }));
  const seconds = (Date.now() - started) / 1000;
  console.log('');
  console.log(`msnl benchmark${settings.quick ? ' (--quick)' : ''}: median of ${settings.repeat} run(s) of ${settings.seconds} s each, ` +
    `${settings.pings} pings; ` + (only === undefined
      ? `map import ${settings.importRows} rows; ${settings.prefixes} prefixes; RSS with ${settings.importRows} mappings and ${settings.callers} connections`
      : `only ${only.join(', ')}`));
  console.log(renderTable(FIGURES, table, only === undefined ? RATIOS : RATIOS.filter((r) => columns.has(r.over) && columns.has(r.under))));
  for (const note of notes) console.log(`note: ${note}`);
  const out = settings.out ?? path.join(PACKAGE_ROOT, 'bench', 'results', `bench-${new Date(started).toISOString().replace(/[:.]/g, '-')}.json`);
  mkdirSync(path.dirname(out), { recursive: true });
  writeFileSync(out, JSON.stringify({ started: new Date(started).toISOString(), seconds, settings, figures: FIGURES, columns: Object.fromEntries(columns), lookups, notes }, null, 2) + '\n');
  console.log(`raw numbers: ${out} (${seconds.toFixed(0)} s)`);
  return 0;
}

/** Host 1's msnld RSS now, in MiB (as one sample), or why it cannot be read. */
function daemonRss(topology: Topology): number[] | string {
  const pid = topology.host(1).daemon?.pid;
  if (pid === undefined) return 'msnld is not running on host 1';
  const rss = rssOf(pid);
  return rss instanceof Error ? rss.message : [rss / 2 ** 20];
}

async function controlFigures(topology: Topology, settings: Settings, columns: Map<string, Record<string, number[] | string | undefined>>): Promise<void> {
  const ms0 = columns.get('msnl ms0') ?? {};
  const file = writeMappingFile(topology.dir, settings.importRows, settings.callers);
  const imports: number[] = [];
  let importError: string | undefined;
  for (let r = 0; r < settings.repeat; r++) {
    const ms = timeImport(topology, topology.host(1), file, path.join(topology.dir, 'import.db'));
    if (ms instanceof Error) importError = ms.message;
    else imports.push(ms);
  }
  ms0['mapImportMs'] = imports.length > 0 ? imports : importError;
  const applied = timeApply(topology, topology.host(1), file, topology.dir);
  ms0['applyMs'] = applied instanceof Error ? applied.message : [applied.applyMs];
  const rss = await measureRss(topology, file, settings.callers);
  if (rss instanceof Error) ms0['rssMiB'] = rss.message;
  else {
    ms0['rssMiB'] = [rss.loadedMiB];
    ms0['rssBaselineMiB'] = [rss.baselineMiB];
    ms0['rssConnected'] = [rss.connected];
    if (rss.connected < settings.callers) ms0['rssMiB'] = `only ${rss.connected} of ${settings.callers} connections came up (${rss.failed} failed); RSS ${rss.loadedMiB.toFixed(1)} MiB`;
  }
  log(`control: import ${JSON.stringify(ms0['mapImportMs'])} ms, rss ${JSON.stringify(rss)}`);
  columns.set('msnl ms0', ms0);
}

if (require.main === module) {
  main().then((code) => process.exit(code), (error: unknown) => {
    console.error(`Error: ${(error as Error).message}`);
    process.exit(1);
  });
}
