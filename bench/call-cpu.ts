// msnld's own CPU per incoming call, without the kernel and without the callers: the real Daemon
// (store, manager, tunnels over fake TUN devices, endpoint) behind a stub underlay, fed N plain
// connect requests from N distinct callers in receive batches of 64 (as msnld's UDP socket hands
// them over), one event-loop turn per batch, until it has sent N confirms. The callers are the
// swarm's (bench/swarm.ts: 128.233.x.y claiming 10.9.x.y, mapped), so every call passes the
// manager's checks and opens a connection and its tunnel state as in `--scale`. The figure the
// machine's other load moves least: user + system CPU of this process from the first request to
// the last confirm, per call, and the garbage collector's share. No root, no namespaces.
// CALL_CPU_COPIES=K adds K retransmitted copies of each request, read after its confirm was sent
// (CALL_CPU_AGES=0: with no receive time, so each is answered with the confirm again).
// Usage: node dist/bench/call-cpu.js [N] [ROUNDS]   (node flags such as --cpu-prof go before the script)
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { PerformanceObserver } from 'node:perf_hooks';
import { writeHeapSnapshot } from 'node:v8';
import { TUNNEL_INTERFACES } from '../src/abi/interfaces.js';
import { parseDottedQuad } from '../src/abi/inet.js';
import { createLogger } from '../src/base/logger.js';
import { Daemon } from '../src/daemon/daemon.js';
import type { ReceiveFunc, Underlay, UnderlayEvents, UnderlaySocket } from '../src/msdl/underlay.js';
import { MsgType, SIGNAL_SIZE } from '../src/msnl/constants.js';
import { writeSignal } from '../src/msnl/wire.js';
import { openStore } from '../src/store/store.js';
import { createFakeTun } from '../src/tun/fake.js';
import { caller } from './swarm.js';

const MSNL_CLI = path.join(__dirname, '..', 'src', 'cli', 'main.js');
const SERVER = '128.232.0.1';
const BATCH = 64;

interface StubLink {
  readonly host: string;
  readonly port: number;
}

/** An underlay that sends nowhere: it counts the confirms msnld sends and lets the bench deliver. */
class StubUnderlay implements Underlay<StubLink> {
  private readonly links = new Map<string, StubLink>();
  receive: ReceiveFunc<StubLink> = () => undefined;
  events: UnderlayEvents<StubLink> | undefined;
  confirms = 0;
  sent = 0;
  /** What the socket says of the datagram being delivered (UnderlaySocket.receivedAgo). */
  ago = NaN;

  open(_host: string, _port: number, onReceive: ReceiveFunc<StubLink>, events?: UnderlayEvents<StubLink>): Promise<UnderlaySocket<StubLink>> {
    this.receive = onReceive;
    this.events = events;
    return Promise.resolve({
      send: (_to: StubLink, buf: Uint8Array, offset: number) => {
        this.sent++;
        if (buf[offset + 1] === MsgType.CONNECT_CONFIRM) this.confirms++;
      },
      receivedAgo: () => this.ago,
      close: () => Promise.resolve(),
      describe: () => 'stub',
    } as UnderlaySocket<StubLink>);
  }

  link(host: string, port: number): StubLink {
    const key = `${host}:${port}`;
    let link = this.links.get(key);
    if (link === undefined) this.links.set(key, (link = { host, port }));
    return link;
  }

  same(a: StubLink, b: StubLink): boolean {
    return a === b;
  }

  headerOctets(): number {
    return 28;
  }

  linkText(link: StubLink): string {
    return `${link.host}:${link.port}`;
  }

  pathLimit(): number {
    return 1472;
  }

  /** As over UDP: the peer's address is the path (all the callers share one, as the swarm's do). */
  pathKey(link: StubLink): string {
    return link.host;
  }
}

function cli(db: string, args: string[]): void {
  const r = spawnSync(process.execPath, [MSNL_CLI, '--db', db, ...args], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`msnl ${args.join(' ')}: ${r.stderr.trim()}`);
}

const turn = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

async function round(n: number, dir: string, index: number): Promise<{ cpuUsPerCall: number; gcUsPerCall: number; wallMs: number; confirms: number; sentPerCall: number }> {
  const db = path.join(dir, `call-cpu-${index}.db`);
  cli(db, ['host', 'set', 'address', SERVER]);
  cli(db, ['ifconfig', 'ms0', '10.0.0.1/8', 'up']);
  cli(db, ['route', 'add', '128.233.0.0/16', 'via', '10.1.0.2:1995', 'auth', 'none']);
  const file = path.join(dir, 'swarm.csv');
  writeFileSync(file, Array.from({ length: n }, (_, i) => `${caller(i + 1).ip}/32,${caller(i + 1).msnl},swarm`).join('\n') + '\n');
  cli(db, ['map', 'import', file]);
  const store = openStore(db);
  const underlay = new StubUnderlay();
  const daemon = new Daemon({
    store, underlay, openTun: (spec) => createFakeTun(spec.name, { mtu: spec.mtu }).device,
    log: createLogger('info', () => undefined), connectionLinesPerSecond: 50,
  });
  await daemon.start();
  await new Promise((resolve) => setTimeout(resolve, 200));
  // The requests, made beforehand in one slab of SIGNAL_SIZE slots (as a receive slab holds them).
  const port = TUNNEL_INTERFACES[0]!.port;
  const server = parseDottedQuad(SERVER) as number;
  const slab = new Uint8Array(n * SIGNAL_SIZE);
  const links: StubLink[] = [];
  for (let i = 1; i <= n; i++) {
    const me = caller(i);
    writeSignal(slab.subarray((i - 1) * SIGNAL_SIZE), MsgType.CONNECT_REQUEST, 0, (0x9e3779b9 * i) >>> 0, parseDottedQuad(me.msnl) as number, port, server, port,
      parseDottedQuad(me.ip) as number, (0x85ebca6b * i + 1) >>> 0, 0);
    links.push(underlay.link('10.1.0.2', 10_000 + i));
  }
  let gcMs = 0;
  const gc = new PerformanceObserver((list) => {
    for (const e of list.getEntries()) gcMs += e.duration;
  });
  gc.observe({ entryTypes: ['gc'] });
  // CALL_CPU_COPIES=K: each request is followed, two batches later, by K copies of it (a storm's
  // retransmissions, queued behind it); with receive times (CALL_CPU_AGES, default 1) each says it
  // arrived before msnld confirmed the call (the two crossed), with CALL_CPU_AGES=0 it says nothing.
  const copies = Number(process.env['CALL_CPU_COPIES'] ?? 0);
  const ages = process.env['CALL_CPU_AGES'] !== '0';
  const readAt = new Float64Array(n);
  const copiesOf = (first: number): void => {
    for (let k = first; k < Math.min(n, first + BATCH); k++) {
      underlay.ago = ages ? performance.now() - (readAt[k] as number) + 1 : NaN;
      for (let c = 0; c < copies; c++) underlay.receive(slab, k * SIGNAL_SIZE, SIGNAL_SIZE, links[k]!, true);
    }
    underlay.ago = NaN;
  };
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  for (let first = 0; first < n; first += BATCH) {
    const end = Math.min(n, first + BATCH);
    for (let k = first; k < end; k++) {
      readAt[k] = performance.now();
      underlay.receive(slab, k * SIGNAL_SIZE, SIGNAL_SIZE, links[k]!, true);
    }
    if (copies > 0 && first >= 2 * BATCH) copiesOf(first - 2 * BATCH);
    underlay.events?.burstEnd?.();
    await turn();
  }
  const batches = Math.ceil(n / BATCH);
  for (let b = Math.max(0, batches - 2); copies > 0 && b < batches; b++) copiesOf(b * BATCH);
  while (underlay.confirms < n && performance.now() - t0 < 60_000) await turn();
  const cpu = process.cpuUsage(cpu0);
  const wallMs = performance.now() - t0;
  await turn();
  gc.disconnect();
  const confirms = underlay.confirms;
  const sent = underlay.sent;
  // CALL_CPU_SNAPSHOT=FILE in the environment: a heap snapshot with the N connections open.
  const snapshot = process.env['CALL_CPU_SNAPSHOT'];
  if (snapshot !== undefined && index === 0) writeHeapSnapshot(snapshot);
  await daemon.stop();
  store.close();
  return { cpuUsPerCall: (cpu.user + cpu.system) / n, gcUsPerCall: (gcMs * 1000) / n, wallMs, confirms, sentPerCall: sent / n };
}

async function main(): Promise<void> {
  const n = Number(process.argv[2] ?? 20_000);
  const rounds = Number(process.argv[3] ?? 1);
  if (!Number.isInteger(n) || n < 1 || n > 55_000 || !Number.isInteger(rounds) || rounds < 1) {
    process.stderr.write('usage: call-cpu [N (1..55000)] [ROUNDS]\n');
    process.exit(1);
  }
  const dir = mkdtempSync(path.join(tmpdir(), 'msnl-call-cpu-'));
  try {
    for (let r = 0; r < rounds; r++) process.stdout.write(JSON.stringify({ calls: n, ...(await round(n, dir, r)) }) + '\n');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

main().catch((error: unknown) => {
  process.stderr.write(`Error: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(2);
});
