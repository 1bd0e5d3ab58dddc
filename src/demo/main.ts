#!/usr/bin/env node
// `npm run demo`: a small MSNL network on this machine. Three hosts in network namespaces joined by
// a veth underlay (TEST-NET-1, inside the namespaces only), an msnld on each with its own database
// and key pair, configured through the msnl CLI as an operator would (keyed routes: every tunnel is
// secure MSNL); then pings across every interface at full
// MTU with DF set, a short iperf3 through ms0, and health and connections from one host. Everything
// is removed at the end, also on Ctrl-C or failure.

import { TUNNEL_INTERFACES } from '../abi/interfaces.js';
import { missingPackages } from './system-tools.js';
import { Topology, UNDERLAY_PORT, type Host } from './topology.js';

const HOSTS = 3;
const out = (line = ''): void => void process.stdout.write(`${line}\n`);
const step = (n: number, total: number, text: string): void => out(`[${n}/${total}] ${text}`);

function fail(message: string): never {
  throw new Error(message);
}

async function waitFor(what: string, check: () => boolean, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) fail(`timed out waiting until ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
}

/** Every host's key pair first (`msnl host key generate` prints the public key to give the peers). */
function makeKeys(net: Topology): void {
  for (const h of net.hosts) {
    const key = net.publicKey(h);
    out(`      h${h.index}# msnl host key generate    -> ${key}`);
  }
}

function configure(net: Topology, h: Host, show: boolean): void {
  const commands: string[][] = [['host', 'set', 'address', h.msnlAddress]];
  for (const o of net.hosts) {
    if (o === h) continue;
    commands.push(['route', 'add', o.msnlAddress, 'via', o.listen, 'key', net.publicKey(o)]);
    for (const spec of TUNNEL_INTERFACES) commands.push(['map', 'add', `10.${spec.index}.0.${o.index}/32`, o.msnlAddress, 'comment', `h${o.index} ${spec.name}`]);
  }
  for (const spec of TUNNEL_INTERFACES) commands.push(['ifconfig', spec.name, `10.${spec.index}.0.${h.index}/24`, 'up']);
  for (const args of commands) {
    net.mustMsnl(h, args);
    if (show) out(`      h${h.index}# msnl ${args.join(' ')}`);
  }
  if (!show) out(`      h${h.index}: ${commands.length} msnl commands`);
}

async function demo(net: Topology): Promise<boolean> {
  const total = 7;
  step(2, total, `building ${HOSTS} hosts in network namespaces on a veth underlay (192.0.2.0/24, MTU 1500)`);
  for (const h of net.hosts) out(`      h${h.index}: namespace ${h.netns}, underlay ${h.underlay}, MSNL address ${h.msnlAddress}`);

  step(3, total, 'configuring every host through msnl, with the daemons still stopped: key pairs, then keyed routes');
  makeKeys(net);
  net.hosts.forEach((h) => configure(net, h, h.index === 1));

  step(4, total, 'starting msnld on every host');
  for (const h of net.hosts) {
    const child = await net.startDaemon(h);
    out(`      h${h.index}: msnld pid ${child.pid}, listening on ${h.listen}`);
  }

  step(5, total, 'pinging across every interface at its full MTU with DF set (ping -M do)');
  const pings = await pingEveryInterface(net);

  step(6, total, 'iperf3 through ms0, h1 -> h2, 3 seconds');
  const throughput = await iperfThroughMs0(net);
  out(`      ${throughput}`);

  step(7, total, 'health and connections as h1 sees them');
  const tunnels = await showHealth(net);

  const ok = pings.good === pings.sent && tunnels.up === tunnels.expected && throughput.endsWith('received');
  out();
  out(`verdict: ${ok ? 'PASS' : 'FAIL'}: ${pings.good}/${pings.sent} pings answered, ${tunnels.up}/${tunnels.expected} tunnels of h1 up, iperf3 ${throughput}`);
  return ok;
}

/** Pings from every host to every later one on each interface at its full MTU with DF set. */
async function pingEveryInterface(net: Topology): Promise<{ sent: number; good: number }> {
  let sent = 0;
  let good = 0;
  for (const a of net.hosts) {
    for (const b of net.hosts) {
      if (b.index <= a.index) continue;
      for (const spec of TUNNEL_INTERFACES) {
        const size = spec.mtu - 28;
        const target = `10.${spec.index}.0.${b.index}`;
        const r = await net.execAsync(a, ['ping', '-n', '-q', '-c', '2', '-i', '0.2', '-W', '3', '-M', 'do', '-s', String(size), target], 30_000);
        const rtt = /= [\d.]+\/([\d.]+)\//.exec(r.stdout)?.[1];
        sent++;
        if (r.code === 0) good++;
        out(`      h${a.index} -> h${b.index} ${spec.name} (MTU ${String(spec.mtu).padStart(5)}, ${String(size).padStart(5)}-byte payload): ${r.code === 0 ? `ok, rtt ${rtt} ms` : `FAILED ${r.stdout.split('\n').find((l) => /loss|unreachable/i.test(l)) ?? r.stderr.trim()}`}`);
      }
    }
  }
  return { sent, good };
}

/** Three seconds of iperf3 from h1 to h2 through ms0; "N Mbit/s received" or why it failed. */
async function iperfThroughMs0(net: Topology): Promise<string> {
  const h1 = net.host(1);
  const h2 = net.host(2);
  const server = net.execAsync(h2, ['iperf3', '-s', '-1', '-B', '10.0.0.2'], 20_000);
  await new Promise((resolve) => setTimeout(resolve, 500));
  const client = await net.execAsync(h1, ['iperf3', '-c', '10.0.0.2', '-t', '3', '-J'], 20_000);
  await server;
  try {
    const report = JSON.parse(client.stdout) as { end?: { sum_received?: { bits_per_second?: number } } };
    const bps = report.end?.sum_received?.bits_per_second;
    if (bps !== undefined) return `${(bps / 1e6).toFixed(0)} Mbit/s received`;
    return 'failed';
  } catch {
    return `failed: ${client.stderr.trim() || client.stdout.slice(0, 200)}`;
  }
}

/** Waits until every tunnel of h1 is up, then prints its health and connections. */
async function showHealth(net: Topology): Promise<{ up: number; expected: number }> {
  const h1 = net.host(1);
  const expected = (HOSTS - 1) * TUNNEL_INTERFACES.length;
  let rows: Array<{ state: string }> = [];
  await waitFor('every tunnel of h1 is up both ways', () => {
    const r = net.msnl(h1, ['-j', 'health']);
    rows = r.code === 0 || r.code === 3 ? (JSON.parse(r.stdout) as Array<{ state: string }>) : [];
    return rows.length === expected && rows.every((row) => row.state === 'up');
  }, 20_000).catch((error: unknown) => out(`      ${(error as Error).message}`));
  out('      h1# msnl health');
  for (const line of net.msnl(h1, ['health']).stdout.trimEnd().split('\n')) out(`      ${line}`);
  out('      h1# msnl conn show');
  for (const line of net.msnl(h1, ['conn', 'show']).stdout.trimEnd().split('\n')) out(`      ${line}`);
  return { up: rows.filter((row) => row.state === 'up').length, expected };
}

async function main(): Promise<number> {
  out('msnl demo: IP over MSNL between three hosts on this machine');
  if (typeof process.getuid === 'function' && process.getuid() !== 0) {
    process.stderr.write('Error: the demo creates network namespaces and TUN devices: run it as root (sudo npm run demo)\n');
    return 1;
  }
  step(1, 7, 'checking the system tools');
  const missing = missingPackages(['ip', 'ping', 'iperf3']);
  if (missing.length > 0) {
    process.stderr.write(`Error: missing system packages: ${missing.join(' ')}: install them as root with \`bash scripts/system-deps\` (npm run demo does)\n`);
    return 1;
  }
  const net = Topology.create({ tag: 'demo', hosts: HOSTS });
  let interrupted = false;
  const onSignal = (): void => {
    if (interrupted) return;
    interrupted = true;
    out('\ninterrupted: tearing everything down');
    void net.destroy().then(() => process.exit(130));
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  try {
    return (await demo(net)) ? 0 : 1;
  } catch (error) {
    out(`verdict: FAIL: ${(error as Error).message}`);
    for (const h of net.hosts) out(`      h${h.index} log:\n${net.tail(h, 8).replace(/^/gm, '        ')}`);
    return 1;
  } finally {
    if (!interrupted) {
      out('teardown: stopping msnld on every host, removing namespaces, links and files');
      await net.destroy();
      const left = net.leftovers();
      if (left.length > 0) out(`warning: namespaces left behind: ${left.join(' ')}`);
    }
  }
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    process.stderr.write(`Error: ${(error as Error).message}\n`);
    process.exit(1);
  },
);
