// The msnl control-path figures that have no peer to compare with: `msnl map import` of a large
// mapping file, `msnl apply` of a whole configuration holding it, and msnld's resident memory holding 100 000 mappings and 1 000 connections.
//
// The RSS figure uses the real msnld of host 1 (the one the data-path figures used), so it is
// the process an operator runs: its database gets the 100 000 rows by `msnl map import`, and a
// third process in host 2 (bench/swarm.ts) opens 1 000 MSNL connections to it from 1 000
// distinct MSNL addresses, each claiming a mapped IP, so every call passes validation.
import { spawn } from 'node:child_process';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { PACKAGE_ROOT, UNDERLAY_PORT, sleep, type Host, type Topology } from '../src/demo/topology.js';
import { parseVmRssBytes } from './measure.js';
import { caller } from './swarm.js';

/**
 * A mapping file of `rows` /32 rows: the first `callers` are the swarm's (10.9.x.y -> 128.233.x.y),
 * the rest filler (10.100.0.0 upwards -> 128.240.x.y).
 */
export function mappingCsv(rows: number, callers: number): string {
  const lines = ['prefix,msnl_address,comment'];
  for (let i = 1; i <= Math.min(callers, rows); i++) {
    const c = caller(i);
    lines.push(`${c.ip}/32,${c.msnl},swarm`);
  }
  for (let j = 0; j < rows - Math.min(callers, rows); j++) {
    lines.push(`10.${100 + (j >>> 16)}.${(j >>> 8) & 255}.${j & 255}/32,128.240.${(j >>> 8) & 255}.${j & 255},`);
  }
  return lines.join('\n') + '\n';
}

/** Times `msnl map import` of `file` into a fresh database (no daemon), in ms. */
export function timeImport(topology: Topology, host: Host, file: string, db: string): number | Error {
  rmSync(db, { force: true });
  const t0 = process.hrtime.bigint();
  const result = topology.exec(host, [process.execPath, path.join(PACKAGE_ROOT, 'dist', 'src', 'cli', 'main.js'), '--db', db, 'map', 'import', file], 300_000);
  const ms = Number(process.hrtime.bigint() - t0) / 1e6;
  for (const suffix of ['', '-wal', '-shm']) rmSync(db + suffix, { force: true });
  return result.code === 0 ? ms : new Error(`msnl map import failed (exit ${result.code}): ${result.stderr.trim().slice(0, 200)}`);
}

/**
 * Times `msnl apply` of a whole configuration holding the mapping file's rows into a fresh
 * database (no daemon): the file is `msnl showconf` of a database the rows were imported into.
 * Returns the ms of the apply and of a second, no-op apply of the same file.
 */
export function timeApply(topology: Topology, host: Host, file: string, dir: string): { applyMs: number; noopMs: number } | Error {
  const cli = [process.execPath, path.join(PACKAGE_ROOT, 'dist', 'src', 'cli', 'main.js')];
  const source = path.join(dir, 'apply-source.db');
  const target = path.join(dir, 'apply-target.db');
  const conf = path.join(dir, 'apply.conf');
  const remove = (): void => {
    for (const db of [source, target]) for (const suffix of ['', '-wal', '-shm']) rmSync(db + suffix, { force: true });
    rmSync(conf, { force: true });
  };
  remove();
  try {
    const imported = topology.exec(host, [...cli, '--db', source, 'map', 'import', file], 300_000);
    if (imported.code !== 0) return new Error(`msnl map import failed: ${imported.stderr.trim().slice(0, 200)}`);
    const shown = topology.exec(host, [...cli, '--db', source, 'showconf'], 300_000);
    if (shown.code !== 0) return new Error(`msnl showconf failed: ${shown.stderr.trim().slice(0, 200)}`);
    writeFileSync(conf, shown.stdout);
    const timed = (): number | Error => {
      const t0 = process.hrtime.bigint();
      const applied = topology.exec(host, [...cli, '--db', target, 'apply', conf], 300_000);
      const ms = Number(process.hrtime.bigint() - t0) / 1e6;
      return applied.code === 0 ? ms : new Error(`msnl apply failed (exit ${applied.code}): ${applied.stderr.trim().slice(0, 200)}`);
    };
    const applyMs = timed();
    if (applyMs instanceof Error) return applyMs;
    const noopMs = timed();
    if (noopMs instanceof Error) return noopMs;
    return { applyMs, noopMs };
  } finally {
    remove();
  }
}

export interface RssFigures {
  readonly baselineMiB: number;
  readonly loadedMiB: number;
  readonly connected: number;
  readonly failed: number;
}

/** VmRSS of a process in bytes. */
export function rssOf(pid: number): number | Error {
  try {
    return parseVmRssBytes(readFileSync(`/proc/${pid}/status`, 'utf8'));
  } catch (error) {
    return new Error(`failed to read the RSS of msnld (pid ${pid}): ${(error as Error).message}`);
  }
}

/**
 * Loads host 1's running msnld with the mapping file and `callers` connections from host 2,
 * and reads its RSS before and after.
 */
export async function measureRss(topology: Topology, file: string, callers: number): Promise<RssFigures | Error> {
  const [server, client] = [topology.host(1), topology.host(2)];
  const pid = server.daemon?.pid;
  if (pid === undefined || server.daemon?.exitCode !== null) return new Error('msnld is not running on host 1');
  const baseline = rssOf(pid);
  if (baseline instanceof Error) return baseline;
  const imported = topology.msnl(server, ['map', 'import', file], 300_000);
  if (imported.code !== 0) return new Error(`msnl map import into the running msnld failed: ${imported.stderr.trim().slice(0, 200)}`);
  topology.msnl(server, ['route', 'add', '128.233.0.0/16', 'via', `${client.underlay}:${UNDERLAY_PORT + 1}`, 'auth', 'none']);
  await sleep(3_000); // the daemon notices the store change and rebuilds its tables
  const swarm = spawn('ip', ['netns', 'exec', client.netns, process.execPath, path.join(PACKAGE_ROOT, 'dist', 'bench', 'swarm.js'),
    `${server.underlay}:${UNDERLAY_PORT}`, server.msnlAddress, String(callers), client.underlay], { stdio: ['pipe', 'pipe', 'pipe'] });
  try {
    let output = '';
    swarm.stdout.setEncoding('utf8').on('data', (chunk: string) => (output += chunk));
    swarm.stderr.setEncoding('utf8').on('data', (chunk: string) => (output += chunk));
    const deadline = Date.now() + 60_000;
    while (!/connected \d+ failed \d+/.test(output) && swarm.exitCode === null && Date.now() < deadline) await sleep(100);
    const match = /connected (\d+) failed (\d+)/.exec(output);
    if (match === null) return new Error(`the caller swarm did not report: ${output.trim().slice(0, 300) || 'no output'}`);
    await sleep(1_000);
    const loaded = rssOf(pid);
    if (loaded instanceof Error) return loaded;
    return { baselineMiB: baseline / 2 ** 20, loadedMiB: loaded / 2 ** 20, connected: Number(match[1]), failed: Number(match[2]) };
  } finally {
    swarm.stdin.end();
    const exited = new Promise<void>((resolve) => swarm.once('exit', () => resolve()));
    if (swarm.exitCode === null) swarm.kill('SIGTERM');
    await Promise.race([exited, sleep(3_000)]);
    if (swarm.exitCode === null && swarm.signalCode === null) swarm.kill('SIGKILL');
  }
}

export function writeMappingFile(dir: string, rows: number, callers: number): string {
  const file = path.join(dir, `mappings-${rows}.csv`);
  writeFileSync(file, mappingCsv(rows, callers));
  return file;
}
