// bench/tun-udp-gro: the cost of writing small UDP datagrams into an offloading TUN device, joined
// into UDP_L4 super-packets (offload-coalesce.ts) against the same datagrams written one by one.
// Both sides go through the same TunDevice.writeBatch and the same checks and copies; only the IP
// identifiers differ (consecutive: joined; stepping by two: not joinable, one write each). A node
// child in the namespace receives them on a UDP socket, as iperf3's server would.
// Run as root: `npx tsc -p tsconfig.json && node dist/bench/tun-udp-gro.js [seconds] [payload]`.
import { spawn, spawnSync } from 'node:child_process';
import { KernelTun } from '../src/tun/device.js';
import { internetChecksum } from '../src/abi/ipv4.js';

const BATCH = 64;
const ROUNDS = 4;

/** IPv4/UDP 10.77.0.2:40000 -> 10.77.0.1:9000 with `payload` octets, identifier `id`, both checksums set. */
function datagram(payload: number, id: number): Buffer {
  const b = Buffer.alloc(28 + payload);
  b[0] = 0x45;
  b.writeUInt16BE(b.length, 2);
  b.writeUInt16BE(id & 0xffff, 4);
  b[6] = 0x40;
  b[8] = 64;
  b[9] = 17;
  b.writeUInt32BE(0x0a4d0002, 12);
  b.writeUInt32BE(0x0a4d0001, 16);
  b.writeUInt16BE(internetChecksum(b, 0, 20), 10);
  b.writeUInt16BE(40000, 20);
  b.writeUInt16BE(9000, 22);
  b.writeUInt16BE(8 + payload, 24);
  for (let i = 0; i < payload; i++) b[28 + i] = (i * 7) & 0xff;
  const pseudo = 0x0a4d + 0x0002 + 0x0a4d + 0x0001 + 17 + 8 + payload;
  const sum = internetChecksum(b, 20, 8 + payload, pseudo);
  b.writeUInt16BE(sum === 0 ? 0xffff : sum, 26);
  return b;
}

function measure(tun: KernelTun, payload: number, joined: boolean, ms: number): { pps: number; cpuUs: number } {
  const step = joined ? 1 : 2;
  const batches = Array.from({ length: 16 }, (_, k) => Array.from({ length: BATCH }, (_, i) => datagram(payload, (k * BATCH + i) * step)));
  const sizes = new Int32Array(BATCH).fill(28 + payload);
  let count = 0;
  const cpu0 = process.cpuUsage();
  const t0 = process.hrtime.bigint();
  const end = Date.now() + ms;
  for (let k = 0; Date.now() < end; k = (k + 1) & 15) count += tun.writeBatch(batches[k]!, sizes, 0);
  const secs = Number(process.hrtime.bigint() - t0) / 1e9;
  const cpu = process.cpuUsage(cpu0);
  return { pps: count / secs, cpuUs: (cpu.user + cpu.system) / Math.max(1, count) };
}

async function inside(ms: number, payload: number): Promise<void> {
  const tun = KernelTun.open('ms0', { mtu: 1500, address: { address: 0x0a4d0001, prefixLength: 24 }, offload: true });
  if (!tun.offload) throw new Error('the kernel refused TUN offload');
  const sink = spawn(process.execPath, ['-e', "const s = require('node:dgram').createSocket('udp4'); s.bind(9000, '10.77.0.1', () => console.log('ready')); s.on('message', () => {});"], { stdio: ['ignore', 'pipe', 'inherit'] });
  await new Promise<void>((resolve) => sink.stdout.once('data', () => resolve()));
  try {
    const rows: { joined: boolean; pps: number; cpuUs: number }[] = [];
    for (let r = 0; r < ROUNDS; r++) {
      for (const joined of [true, false]) rows.push({ joined, ...measure(tun, payload, joined, ms) });
    }
    console.log(`UDP datagrams of ${payload} octets into an offloading TUN, writeBatch of ${BATCH}, ${ROUNDS} interleaved rounds of ${ms} ms`);
    for (const row of rows) console.log(`  ${row.joined ? 'joined (UDP_L4)' : 'one per write  '}  ${Math.round(row.pps).toLocaleString('en-US').padStart(11)} datagrams/s  ${row.cpuUs.toFixed(2)} us CPU each`);
    const med = (joined: boolean, key: 'pps' | 'cpuUs'): number => {
      const v = rows.filter((x) => x.joined === joined).map((x) => x[key]).sort((a, b) => a - b);
      return ((v[(v.length - 1) >> 1] ?? 0) + (v[v.length >> 1] ?? 0)) / 2;
    };
    console.log(`median: joined ${(med(true, 'pps') / med(false, 'pps')).toFixed(2)}x the datagrams/s, ${(med(true, 'cpuUs') / med(false, 'cpuUs')).toFixed(2)}x the CPU per datagram; counters ${JSON.stringify(tun.stats().offload)}`);
  } finally {
    sink.kill();
    tun.close();
  }
}

function main(): void {
  const args = process.argv.slice(2).filter((a) => a !== '--inside');
  const ms = Math.round(Number(args[0] ?? '1') * 1000);
  const payload = Number(args[1] ?? '64');
  if (!(ms > 0) || !Number.isInteger(payload) || payload < 1 || payload > 1400) {
    console.error('Error: usage: tun-udp-gro [seconds] [payload 1..1400]');
    process.exit(1);
  }
  if (process.argv.includes('--inside')) {
    inside(ms, payload).catch((error: unknown) => {
      console.error(`Error: ${(error as Error).message}`);
      process.exit(2);
    });
    return;
  }
  if (process.getuid?.() !== 0) {
    console.error('Error: bench/tun-udp-gro needs root (it creates a network namespace and a TUN device)');
    process.exit(1);
  }
  const ns = `msnl-bench-udpgro-${process.pid}`;
  const add = spawnSync('ip', ['netns', 'add', ns], { encoding: 'utf8' });
  if (add.status !== 0) throw new Error(`failed to create namespace ${ns}: ${add.stderr}`);
  try {
    const run = spawnSync('ip', ['netns', 'exec', ns, process.execPath, __filename, '--inside', String(ms / 1000), String(payload)], { stdio: 'inherit', timeout: 120_000, killSignal: 'SIGKILL' });
    if (run.status !== 0) process.exitCode = 2;
  } finally {
    spawnSync('ip', ['netns', 'del', ns]);
  }
}

main();
