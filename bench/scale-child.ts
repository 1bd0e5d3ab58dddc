// One scale run in its own process (started by bench/scale.ts with --expose-gc): msnld's engine,
// the real Daemon with its store, reconciler and tables, over fake TUN devices and the in-memory
// underlay (no root, no kernel), against a database of N mappings made beforehand. Prints one JSON
// line of figures. Usage: node --expose-gc dist/bench/scale-child.js DB
import { createLogger } from '../src/base/logger.js';
import { Daemon } from '../src/daemon/daemon.js';
import { MemoryHub, MemoryUnderlay } from '../src/msdl/memory.js';
import { openStore } from '../src/store/store.js';
import { createFakeTun } from '../src/tun/fake.js';

export interface MappingScaleFigures {
  rows: number;
  /** Whole read at start: duration, and the longest the event loop stood still meanwhile. */
  startMs: number;
  startStallMs: number;
  /** The longest the whole read itself held the event loop in one slice (start / reload). */
  startSliceMs: number;
  reloadSliceMs: number;
  rssAfterApplyMiB: number;
  /** From the commit of one `map add` (another connection, as msnl does) to the daemon using it. */
  mapAddAppliedMs: number;
  /** The reconcile of that one change on its own (no polling delay). */
  mapAddReconcileMs: number;
  rssAfterTwoMoreMiB: number;
  /** A forced reload (SIGHUP, msnl reload): a whole re-read in slices. */
  reloadMs: number;
  reloadStallMs: number;
  tableMiB: number;
}

const MiB = 1024 * 1024;
const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

function steadyRss(): number {
  const gc = (globalThis as { gc?: () => void }).gc;
  gc?.();
  gc?.();
  return process.memoryUsage().rss / MiB;
}

/** The longest gap between 5 ms timer turns since the last reset, minus the 5 ms. */
class StallMeter {
  private last = performance.now();
  private worst = 0;
  private readonly timer = setInterval(() => {
    const now = performance.now();
    this.worst = Math.max(this.worst, now - this.last - 5);
    this.last = now;
  }, 5);
  reset(): void {
    this.last = performance.now();
    this.worst = 0;
  }
  get maxMs(): number {
    return Math.max(this.worst, performance.now() - this.last - 5, 0);
  }
  stop(): void {
    clearInterval(this.timer);
  }
}

async function main(): Promise<void> {
  const db = process.argv[2];
  if (db === undefined) throw new Error('argument "DB" is wrong: scale-child takes the database path');
  const store = openStore(db);
  const writer = openStore(db); // a second connection, as `msnl map add` would be
  const rows = store.mappingLog.count();
  const hub = new MemoryHub({ clock: { now: Date.now }, seed: 1, loss: 0, delayMs: 0, maxDatagram: 1472, schedule: (delay) => void setTimeout(() => hub.deliverDue(), delay) });
  const daemon = new Daemon({
    store,
    underlay: new MemoryUnderlay(hub),
    openTun: (spec) => createFakeTun(spec.name, { mtu: spec.mtu }).device,
    log: createLogger('error', () => undefined),
    pollMs: 5,
  });
  const meter = new StallMeter();
  await sleep(50);
  meter.reset();
  let t0 = performance.now();
  await daemon.start();
  const startMs = performance.now() - t0;
  const startStallMs = meter.maxMs;
  const startSliceMs = daemon.mappingStats.longestSliceMs;
  await sleep(1000);
  const rssAfterApplyMiB = steadyRss();

  // One `map add` by another connection; the daemon polls every 5 ms.
  const probe = 0xc0a80001; // 192.168.0.1, outside the bench's rows
  t0 = performance.now();
  writer.addMapping({ prefix: { address: probe, length: 32 }, msnlAddress: 0x80e80001 });
  while (daemon.view.msnlAddressOf(probe) !== 0x80e80001 && performance.now() - t0 < 30_000) await sleep(1);
  const mapAddAppliedMs = performance.now() - t0;
  // Two more, each reconciled on its own, timed without the polling delay.
  const times: number[] = [];
  for (let i = 2; i <= 3; i++) {
    writer.addMapping({ prefix: { address: probe + i, length: 32 }, msnlAddress: 0x80e80000 + i });
    t0 = performance.now();
    await daemon.reconcile(false);
    times.push(performance.now() - t0);
    if (daemon.view.msnlAddressOf(probe + i) !== 0x80e80000 + i) throw new Error(`map add ${i} was not applied`);
  }
  await sleep(500);
  const rssAfterTwoMoreMiB = steadyRss();

  meter.reset();
  t0 = performance.now();
  await daemon.reconcile(true);
  const reloadMs = performance.now() - t0;
  const reloadStallMs = meter.maxMs;
  const reloadSliceMs = daemon.mappingStats.longestSliceMs;
  meter.stop();
  if (daemon.mappingStats.size !== rows + 3) throw new Error(`table holds ${daemon.mappingStats.size} mappings, expected ${rows + 3}`);
  const figures: MappingScaleFigures = {
    rows,
    startMs,
    startStallMs,
    startSliceMs,
    reloadSliceMs,
    rssAfterApplyMiB,
    mapAddAppliedMs,
    mapAddReconcileMs: Math.max(...times),
    rssAfterTwoMoreMiB,
    reloadMs,
    reloadStallMs,
    tableMiB: daemon.mappingStats.bytes / MiB,
  };
  await daemon.stop();
  writer.close();
  store.close();
  process.stdout.write(JSON.stringify(figures) + '\n');
}

main().catch((error: unknown) => {
  process.stderr.write(`Error: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(2);
});
