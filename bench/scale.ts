// npm run bench -- --scale: how msnld's engine holds up with many mappings (and, filled in by the
// connection work, many connections). Each row runs in a fresh child process (bench/scale-child.ts)
// against a database made here with one bulk import, so one row's heap never inflates the next.
// Prints the table and writes { scale: { mappings: [...], connections: [...] } } as JSON.
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { openStore } from '../src/store/store.js';
import type { NewMapping } from '../src/store/types.js';
import type { MappingScaleFigures } from './scale-child.js';
import type { ConnShowFigures } from './conn-show.js';
import type { AbuseFigures } from './control-abuse.js';

/** The figures of one scale run; `connections` stays empty until the connection rows exist. */
export interface ScaleReport {
  mappings: Array<MappingScaleFigures | { rows: number; error: string }>;
  connections: unknown[];
  /** The control socket: `msnl conn show`/`health` of 100 000 connections, `msnl status` under 2000 abusive clients. */
  control?: { connShow: ConnShowFigures | { error: string }; abuse: AbuseFigures | { error: string } };
}

/** Runs one control bench (bench/conn-show.ts, bench/control-abuse.ts) in a fresh process; its last stdout line is JSON. */
function runControlChild<T>(script: string, args: string[]): T | { error: string } {
  const result = spawnSync(process.execPath, ['--expose-gc', path.join(__dirname, script), ...args], { encoding: 'utf8', timeout: 300_000 });
  if (result.status !== 0) return { error: `${script} failed (exit ${result.status}): ${(result.stderr ?? '').trim().slice(0, 300)}` };
  return JSON.parse(result.stdout.trim().split('\n').pop() ?? '{}') as T;
}

/** `rows` /32 mappings 10.100.0.0 upwards -> 128.240.x.y, imported in one transaction. */
function makeDatabase(file: string, rows: number): void {
  const store = openStore(file);
  try {
    const batch: NewMapping[] = [];
    for (let j = 0; j < rows; j++) batch.push({ prefix: { address: (0x0a640000 + j) >>> 0, length: 32 }, msnlAddress: (0x80f00000 + j) >>> 0 });
    store.importMappings(batch);
  } finally {
    store.close();
  }
}

function runChild(db: string): MappingScaleFigures | Error {
  const child = path.join(__dirname, 'scale-child.js');
  const result = spawnSync(process.execPath, ['--expose-gc', child, db], { encoding: 'utf8', timeout: 600_000 });
  if (result.status !== 0) return new Error(`scale child failed (exit ${result.status}): ${(result.stderr ?? '').trim().slice(0, 300)}`);
  return JSON.parse(result.stdout.trim().split('\n').pop() ?? '{}') as MappingScaleFigures;
}

const fmt = (value: number, digits = 0): string => value.toFixed(digits);

export function renderMappingTable(rows: ScaleReport['mappings']): string {
  const head = ['mapping rows', 'RSS after apply', 'one `map add` applied after', '(its reconcile)', 'RSS after two more reconciles', 'start (whole read)', 'reload (whole read)', 'longest slice of the read, start / reload', 'longest event-loop gap, start / reload', 'table'];
  const lines = [`| ${head.join(' | ')} |`, `|${head.map(() => '---:').join('|')}|`];
  for (const row of rows) {
    if ('error' in row) {
      lines.push(`| ${row.rows.toLocaleString('en-US')} | fail: ${row.error} |`);
      continue;
    }
    lines.push(
      `| ${row.rows.toLocaleString('en-US')} | ${fmt(row.rssAfterApplyMiB)} MiB | ${fmt(row.mapAddAppliedMs, 1)} ms | ${fmt(row.mapAddReconcileMs, 2)} ms | ` +
        `${fmt(row.rssAfterTwoMoreMiB)} MiB | ${fmt(row.startMs)} ms | ${fmt(row.reloadMs)} ms | ${fmt(row.startSliceMs)} / ${fmt(row.reloadSliceMs)} ms | ${fmt(row.startStallMs)} / ${fmt(row.reloadStallMs)} ms | ${fmt(row.tableMiB, 1)} MiB |`,
    );
  }
  return lines.join('\n');
}

export function renderControl(control: NonNullable<ScaleReport['control']>): string {
  const { connShow: c, abuse: a } = control;
  const lines: string[] = [];
  if ('error' in c) lines.push(`conn show: fail: ${c.error}`);
  else {
    lines.push(`msnl conn show, ${c.connections.toLocaleString('en-US')} connections: ${fmt(c.connShowMs)} ms (${c.connShowLines} lines); msnl health: ${fmt(c.healthMs)} ms (goal < 2000 ms)`);
    lines.push(`  msnld side: RSS ${fmt(c.rssBeforeMiB)} -> peak ${fmt(c.rssPeakMiB)} MiB while answering, event loop delay max ${fmt(c.loopDelayMaxMs, 1)} ms`);
  }
  if ('error' in a) lines.push(`status under abuse: fail: ${a.error}`);
  else {
    lines.push(`msnl status under ${a.abusers} abusive clients: ${a.statusReplies} replies (${a.statusFailures} failed), p50 ${fmt(a.statusP50Ms, 1)} ms, p99 ${fmt(a.statusP99Ms, 1)} ms, max ${fmt(a.statusMaxMs, 1)} ms (goal < 100 ms)`);
    lines.push(`  msnld side: event loop delay max ${fmt(a.serverLoopDelayMaxMs, 1)} ms, most CPU between two 10 ms ticks ${fmt(a.serverWorkMaxMs, 1)} ms; load ${fmt(a.load, 1)} on ${a.cpus} CPUs`);
  }
  return lines.join('\n');
}

export async function runScale(options: {
  quick: boolean;
  out: string | undefined;
  packageRoot: string;
  /** The connection table (bench/scale-connections.ts, as root), run after the mapping table. */
  connections?: () => Promise<{ rows: unknown[]; text: string }>;
}): Promise<number> {
  const sizes = options.quick ? [10_000, 100_000] : [100_000, 1_000_000];
  const dir = mkdtempSync(path.join(tmpdir(), 'msnl-scale-'));
  const report: ScaleReport = { mappings: [], connections: [] };
  const started = Date.now();
  try {
    for (const rows of sizes) {
      const db = path.join(dir, `mappings-${rows}.db`);
      console.log(`bench: scale: ${rows} mappings: importing`);
      makeDatabase(db, rows);
      console.log(`bench: scale: ${rows} mappings: running the daemon`);
      const figures = runChild(db);
      report.mappings.push(figures instanceof Error ? { rows, error: figures.message } : figures);
      for (const suffix of ['', '-wal', '-shm']) rmSync(db + suffix, { force: true });
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  console.log('\nmsnld engine with many mappings (fake TUN, in-memory underlay; RSS after gc):\n');
  console.log(renderMappingTable(report.mappings));
  const million = report.mappings.find((row) => row.rows === 1_000_000);
  if (million !== undefined && !('error' in million)) console.log(`\n1 000 000 mappings: ${fmt(million.rssAfterTwoMoreMiB)} MiB RSS steady (goal < 300 MiB)`);
  console.log('bench: scale: control socket: conn show of 100 000 connections, status under 2000 abusive clients');
  report.control = { connShow: runControlChild<ConnShowFigures>('conn-show.js', ['100000']), abuse: runControlChild<AbuseFigures>('control-abuse.js', ['2000']) };
  console.log(`\nmsnld's control socket (the real server and CLI over a fake connection table; wall times on this machine as loaded):\n\n${renderControl(report.control)}`);
  if (options.connections !== undefined) {
    const connections = await options.connections();
    report.connections = connections.rows;
    console.log(`\nmsnld with many connections (a real msnld in a namespace, callers from bench/swarm.ts):\n\n${connections.text}`);
  } else {
    console.log('\nthe connection table needs root (network namespaces): run as root to measure it');
  }
  const out = options.out ?? path.join(options.packageRoot, 'bench', 'results', `bench-scale-${new Date(started).toISOString().replace(/[:.]/g, '-')}.json`);
  mkdirSync(path.dirname(out), { recursive: true });
  writeFileSync(out, JSON.stringify({ started: new Date(started).toISOString(), seconds: (Date.now() - started) / 1000, scale: report }, null, 2) + '\n');
  console.log(`\nbench: wrote ${out}`);
  return report.mappings.some((row) => 'error' in row) ? 2 : 0;
}
