// The CPU of the first calls of two fresh msnld Daemons in one process (in-memory databases, fake
// TUN devices, the memory hub: no kernel, no other process), with msnld's warm-up or without:
// what the warm-up saves a first call, apart from the machine's scheduling. Each sample is a fresh
// node process (V8 starts cold): a ping on ms0 (the daemons' first call), ms1, ms3, ms2 (further
// calls), then ms0 again (the open connection). CPU of both daemons together (process.cpuUsage)
// from the echo request entering h1's msN to the reply leaving it, and the process's RSS after the
// pings; medians over the samples. Plain routes, or keyed with --keyed; --rounds: the warm-up's
// whole-daemon rounds (msnld makes WHOLE_DAEMONS_ROUNDS).
// Run: npx tsc -p tsconfig.json && node dist/bench/first-call-daemons.js [samples] [--warm-up none|hosts|all] [--rounds N] [--keyed]
import { spawnSync } from 'node:child_process';
import { performance } from 'node:perf_hooks';
import { TUNNEL_INTERFACES } from '../src/abi/interfaces.js';
import { createLogger } from '../src/base/logger.js';
import { generateKeyPair } from '../src/crypto/primitives.js';
import { Daemon } from '../src/daemon/daemon.js';
import { useNativeHandshake } from '../src/daemon/aead.js';
import { startWarmUp, WHOLE_DAEMONS_ROUNDS } from '../src/daemon/warm-daemons.js';
import { ipOf } from '../src/daemon/warm-host.js';
import { echoReply, echoRequest, warmUp } from '../src/daemon/warmup.js';
import { MemoryHub, MemoryUnderlay } from '../src/msdl/memory.js';
import { openStore } from '../src/store/store.js';
import { createFakeTun, type FakeTunPeer } from '../src/tun/fake.js';

const ORDER = [0, 1, 3, 2, 0];
const MODES = ['none', 'hosts', 'all'];

/** One sample in this process: CPU ms per ping in ORDER, then the process's RSS in MiB after them. */
async function sample(mode: string, keyed: boolean, rounds: number): Promise<number[]> {
  const hub: MemoryHub = new MemoryHub({ clock: { now: Date.now }, seed: 1, delayMs: 0, maxDatagram: 1472, schedule: (delay) => void setTimeout(() => hub.deliverDue(), Math.max(0, delay)) });
  const underlay = new MemoryUnderlay(hub);
  const msnl = [0x80e80001, 0x80e80002];
  const peers: FakeTunPeer[][] = [[], []];
  const daemons: Daemon<unknown>[] = [];
  const log = createLogger('verbose', () => undefined);
  useNativeHandshake(); // as msnld has it from its start
  const keys = keyed ? [generateKeyPair(), generateKeyPair()] : null;
  for (const i of [0, 1]) {
    const store = openStore(':memory:');
    const other = 1 - i;
    store.updateHost({ msnlAddress: msnl[i]!, listenHost: `h${i}`, listenPort: 7010 });
    if (keys !== null) store.setPrivateKey(keys[i]!.privateKey);
    store.addRoute({ prefix: { address: msnl[other]!, length: 32 }, host: `h${other}`, port: 7010, publicKey: keys?.[other]!.publicKey ?? null });
    for (const spec of TUNNEL_INTERFACES) {
      store.addMapping({ prefix: { address: ipOf(spec.index, other + 1), length: 32 }, msnlAddress: msnl[other]! });
      store.setInterfaceAddress(spec.name, { address: ipOf(spec.index, i + 1), length: 24 }, true);
    }
    const daemon = new Daemon({
      store, underlay, log, pollMs: 250,
      openTun: (spec) => {
        const { device, peer } = createFakeTun(spec.name, { mtu: spec.mtu, offload: spec.index < 3 });
        peers[i]!.push(peer);
        return device;
      },
    }) as Daemon<unknown>;
    await daemon.start();
    daemons.push(daemon);
  }
  if (mode === 'hosts') warmUp(keyed);
  if (mode === 'all') await startWarmUp(keyed, log, rounds).done;
  for (const peer of peers[1]!) peer.onPacket((packet) => void peer.inject(echoReply(packet)));
  await new Promise((resolve) => setTimeout(resolve, 300));
  const cpu: number[] = [];
  for (const index of ORDER) {
    const peer = peers[0]![index]!;
    const replied = new Promise<void>((resolve) => peer.onPacket(() => resolve()));
    const before = process.cpuUsage();
    peer.inject(echoRequest(ipOf(index, 1), ipOf(index, 2), index, 84));
    await Promise.race([replied, new Promise((resolve) => setTimeout(resolve, 2000))]);
    const used = process.cpuUsage(before);
    cpu.push((used.user + used.system) / 1000);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  cpu.push(process.memoryUsage().rss / 1048576);
  for (const daemon of daemons) await daemon.stop();
  return cpu;
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] ?? NaN;
}

async function main(): Promise<number> {
  const at = process.argv.indexOf('--warm-up');
  const mode = at >= 0 ? process.argv[at + 1] ?? '' : 'all';
  const keyed = process.argv.includes('--keyed');
  const r = process.argv.indexOf('--rounds');
  const rounds = r >= 0 ? Number(process.argv[r + 1]) : WHOLE_DAEMONS_ROUNDS;
  if (process.argv.includes('--child')) {
    console.log(JSON.stringify(await sample(mode, keyed, rounds)));
    return 0;
  }
  const samples = Number(process.argv[2] ?? 8);
  if (!MODES.includes(mode) || !Number.isInteger(samples) || samples < 1 || samples > 100 || !Number.isInteger(rounds) || rounds < 1 || rounds > 100) {
    console.error('Error: argument "samples/--warm-up/--rounds" is wrong: samples 1..100, --warm-up none, hosts or all, --rounds 1..100');
    return 1;
  }
  const rows: number[][] = [];
  const started = performance.now();
  for (let i = 0; i < samples; i++) {
    const child = spawnSync(process.execPath, [__filename, '--child', '--warm-up', mode, ...(keyed ? ['--keyed'] : [])], { encoding: 'utf8', timeout: 60_000 });
    const line = child.stdout.trim().split('\n').pop() ?? '';
    if (child.status !== 0 || !line.startsWith('[')) {
      console.error(`Error: a sample failed: ${child.stderr.trim() || line}`);
      return 2;
    }
    rows.push(JSON.parse(line) as number[]);
  }
  const columns = [...ORDER, 'rss'].map((_, k) => median(rows.map((r) => r[k]!)).toFixed(2));
  console.log(`warm-up ${mode}${mode === 'all' ? ` (${rounds} whole-daemon rounds)` : ''}${keyed ? ', keyed' : ''}: CPU ms of both daemons per ping, median of ${samples} fresh processes (${((performance.now() - started) / 1000).toFixed(0)} s):`);
  console.log(`  first call ms0 ${columns[0]}, calls ms1 ${columns[1]} ms3 ${columns[2]} ms2 ${columns[3]}, open connection ms0 ${columns[4]}; RSS ${columns[5]} MiB`);
  return 0;
}

main().then((code) => (process.exitCode = code), (error: unknown) => {
  console.error(`Error: ${(error as Error).message}`);
  process.exitCode = 2;
});
