// bench/tun: packets per second through the msnl_tun addon (non-blocking fd, uv_poll, batches)
// against a plain blocking fs.read / fs.write loop on the same TUN device (the tuntap2 design).
// Run as root: `npx tsc -p tsconfig.json && node dist/bench/tun.js [seconds]`. It makes its own
// network namespace with ms0 (10.77.0.1/24) and ms1 (10.78.0.1/24) and IP forwarding: packets
// written into ms0 for 10.78.0.2 are forwarded out of ms1, where the read side picks them up.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import { Worker, isMainThread, workerData, parentPort } from 'node:worker_threads';
import { KernelTun } from '../src/tun/device.js';
import { loadNative } from '../src/tun/native.js';

const BATCH = 64;
const SIZES = [64, 1400];

/** An IPv4/UDP packet 10.77.0.2 -> 10.78.0.2 of `size` bytes, header checksum set, UDP checksum 0. */
function packet(size: number): Buffer {
  const b = Buffer.alloc(size);
  b[0] = 0x45;
  b.writeUInt16BE(size, 2);
  b[8] = 64;
  b[9] = 17;
  b.writeUInt32BE(0x0a4d0002, 12);
  b.writeUInt32BE(0x0a4e0002, 16);
  let sum = 0;
  for (let i = 0; i < 20; i += 2) sum += b.readUInt16BE(i);
  while (sum > 0xffff) sum = (sum & 0xffff) + (sum >>> 16);
  b.writeUInt16BE(~sum & 0xffff, 10);
  b.writeUInt16BE(40000, 20);
  b.writeUInt16BE(9, 22);
  b.writeUInt16BE(size - 20, 24);
  return b;
}

function open(name: string, third: number, blocking: boolean): KernelTun {
  return KernelTun.open(name, { mtu: 1500, address: { address: 0x0a000001 + (third << 16) , prefixLength: 24 }, blocking });
}

async function writeRate(method: 'addon' | 'fs', size: number, ms: number): Promise<number> {
  const src = open('ms0', 77, method === 'fs');
  const dst = open('ms1', 78, false);
  const p = packet(size);
  const bufs = Array.from({ length: BATCH }, () => p);
  const sizes = new Int32Array(BATCH).fill(size);
  let count = 0;
  const end = Date.now() + ms;
  const t0 = process.hrtime.bigint();
  if (method === 'addon') {
    while (Date.now() < end) count += src.writeBatch(bufs, sizes, 0);
  } else {
    const fd = src.fileDescriptor;
    await new Promise<void>((resolve) => {
      const next = (): void => (Date.now() < end ? fs.write(fd, p, 0, size, null, (err) => (err ? resolve() : (count++, next()))) : resolve());
      next();
    });
  }
  const secs = Number(process.hrtime.bigint() - t0) / 1e9;
  src.close();
  dst.close();
  return count / secs;
}

async function readRate(method: 'addon' | 'fs', size: number, ms: number): Promise<{ pps: number; offered: number }> {
  const src = open('ms0', 77, false);
  const dst = open('ms1', 78, method === 'fs');
  const producer = new Worker(__filename, { workerData: { fd: src.fileDescriptor, size, ms: ms + 500 } });
  const offered = new Promise<number>((resolve) => producer.once('message', (m: number) => resolve(m)));
  const bufs = Array.from({ length: BATCH }, () => Buffer.alloc(2048));
  const sizes = new Int32Array(BATCH);
  let count = 0;
  await new Promise((r) => setTimeout(r, 50)); // producer warm-up
  const end = Date.now() + ms;
  const t0 = process.hrtime.bigint();
  await new Promise<void>((resolve) => {
    if (method === 'addon') {
      dst.onReadable(() => {
        for (let round = 0; round < 16; round++) {
          const n = dst.readBatch(bufs, sizes, 0);
          count += n;
          if (n < BATCH) break;
        }
        if (Date.now() >= end) {
          dst.onReadable(null);
          resolve();
        }
      });
    } else {
      const fd = dst.fileDescriptor;
      const buf = bufs[0]!;
      const next = (): void => (Date.now() < end ? fs.read(fd, buf, 0, buf.length, null, (err) => (err ? resolve() : (count++, next()))) : resolve());
      next();
    }
  });
  const secs = Number(process.hrtime.bigint() - t0) / 1e9;
  const sent = await offered;
  await producer.terminate();
  src.close();
  dst.close();
  return { pps: count / secs, offered: sent / ((ms + 550) / 1000) };
}

function producerThread(): void {
  const { fd, size, ms } = workerData as { fd: number; size: number; ms: number };
  const native = loadNative();
  const p = packet(size);
  const bufs = Array.from({ length: BATCH }, () => p);
  const sizes = new Int32Array(BATCH).fill(size);
  let sent = 0;
  const end = Date.now() + ms;
  while (Date.now() < end) {
    const r = native.writeBatch(fd, bufs, sizes, 0, 0, BATCH);
    if (r > 0) sent += r;
  }
  parentPort?.postMessage(sent);
}

async function inside(ms: number): Promise<void> {
  const fmt = (n: number): string => Math.round(n).toLocaleString('en-US').padStart(12);
  const rows: string[] = [];
  console.log(`msnl_tun bench: ${ms} ms per cell, batch ${BATCH}, write = into ms0, read = out of ms1 (forwarded)`);
  console.log(`${'size'.padStart(5)}  ${'method'.padEnd(22)}${'write pkt/s'.padStart(12)}${'read pkt/s'.padStart(12)}${'offered'.padStart(12)}`);
  for (const size of SIZES) {
    const res: Record<string, { w: number; r: number }> = {};
    for (const method of ['addon', 'fs'] as const) {
      const w = await writeRate(method, size, ms);
      const r = await readRate(method, size, ms);
      res[method] = { w, r: r.pps };
      const label = method === 'addon' ? 'addon (uv_poll, batch)' : 'fs.read/fs.write loop';
      console.log(`${String(size).padStart(5)}  ${label.padEnd(22)}${fmt(w)}${fmt(r.pps)}${fmt(r.offered)}`);
    }
    const a = res.addon!;
    const f = res.fs!;
    rows.push(`${String(size).padStart(5)}  ${'ratio addon / fs'.padEnd(22)}${(a.w / f.w).toFixed(1).padStart(11)}x${(a.r / f.r).toFixed(1).padStart(11)}x`);
  }
  for (const row of rows) console.log(row);
}

async function main(): Promise<void> {
  const ms = Math.round(Number(process.argv.find((a) => /^\d+(\.\d+)?$/.test(a)) ?? '1') * 1000);
  if (process.argv.includes('--inside')) return inside(ms);
  if (process.getuid?.() !== 0) {
    console.error('Error: bench/tun needs root (it creates a network namespace and TUN devices)');
    process.exit(1);
  }
  const ns = `msnl-bench-tun-${process.pid}`;
  const add = spawnSync('ip', ['netns', 'add', ns], { encoding: 'utf8' });
  if (add.status !== 0) throw new Error(`failed to create namespace ${ns}: ${add.stderr}`);
  try {
    const sysctl = ['net.ipv4.ip_forward=1', 'net.ipv6.conf.default.disable_ipv6=1', 'net.ipv4.conf.all.rp_filter=0', 'net.ipv4.conf.default.rp_filter=0'];
    spawnSync('ip', ['netns', 'exec', ns, 'sysctl', '-q', '-w', ...sysctl], { stdio: 'inherit' });
    const run = spawnSync('ip', ['netns', 'exec', ns, process.execPath, __filename, '--inside', String(ms / 1000)], {
      stdio: 'inherit',
      timeout: 120_000,
      killSignal: 'SIGKILL',
    });
    if (run.status !== 0) process.exitCode = 1;
  } finally {
    spawnSync('ip', ['netns', 'del', ns]);
  }
}

if (isMainThread) void main();
else producerThread();
