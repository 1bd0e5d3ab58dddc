// `msnl conn show` and `msnl health` against N connections, without a swarm: this process plays
// msnld's control side (the real ControlServer and DaemonControl over bench/fake-connections.ts),
// and the real CLI runs as a child over the unix socket, as an operator runs it. Measures the
// CLI's wall time, the rows it printed, and on the daemon side the RSS growth while answering and
// the longest event-loop delay (perf_hooks). Usage: node --expose-gc dist/bench/conn-show.js [N]
// prints one JSON line (ConnShowFigures); bench/scale.ts runs it for the `scale` key.
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { ControlServer } from '../src/control/server.js';
import { DaemonControl } from '../src/daemon/control-handler.js';
import { fakeDaemon } from './fake-connections.js';

export interface ConnShowFigures {
  connections: number;
  /** Wall time of the whole CLI process (start-up included), and the lines it printed. */
  connShowMs: number;
  connShowLines: number;
  healthMs: number;
  healthLines: number;
  /** Daemon side: RSS before (after gc) and the highest seen while answering, MiB. */
  rssBeforeMiB: number;
  rssPeakMiB: number;
  /** Daemon side: the longest event-loop delay while answering, ms. */
  loopDelayMaxMs: number;
}

const MiB = 1024 * 1024;
const CLI = path.join(__dirname, '..', 'src', 'cli', 'main.js');

/** Runs `msnl ARGS` against the socket; resolves with its wall time, exit code and stdout line count. */
function runCli(socketPath: string, args: string[]): Promise<{ ms: number; code: number | null; lines: number; stderr: string }> {
  return new Promise((resolve) => {
    const started = process.hrtime.bigint();
    const child = spawn(process.execPath, [...(process.env.CONN_SHOW_NODE_ARGS ?? '').split(' ').filter(Boolean), CLI, ...args], { env: { ...process.env, MSNL_SOCKET: socketPath }, stdio: ['ignore', 'pipe', 'pipe'] });
    let lines = 0;
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => {
      for (let i = chunk.indexOf(10); i >= 0; i = chunk.indexOf(10, i + 1)) lines++;
    });
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.on('close', (code) => resolve({ ms: Number(process.hrtime.bigint() - started) / 1e6, code, lines, stderr: stderr.slice(0, 300) }));
  });
}

export async function measureConnShow(count: number): Promise<ConnShowFigures> {
  const dir = mkdtempSync(path.join(tmpdir(), 'msnl-connshow-'));
  const socketPath = path.join(dir, 'msnld.sock');
  const server = new ControlServer(new DaemonControl(fakeDaemon(count)), socketPath);
  const gc = (globalThis as { gc?: () => void }).gc;
  try {
    await server.listen();
    gc?.();
    const rssBefore = process.memoryUsage().rss;
    let rssPeak = rssBefore;
    const sampler = setInterval(() => (rssPeak = Math.max(rssPeak, process.memoryUsage().rss)), 20);
    const delay = monitorEventLoopDelay({ resolution: 5 });
    delay.enable();
    const shown = await runCli(socketPath, ['conn', 'show']);
    const health = await runCli(socketPath, ['health']);
    delay.disable();
    clearInterval(sampler);
    for (const [what, run] of [['conn show', shown], ['health', health]] as const) {
      if (run.code !== 0) throw new Error(`msnl ${what} failed (exit ${run.code}): ${run.stderr.trim()}`);
    }
    return {
      connections: count,
      connShowMs: shown.ms,
      connShowLines: shown.lines,
      healthMs: health.ms,
      healthLines: health.lines,
      rssBeforeMiB: rssBefore / MiB,
      rssPeakMiB: rssPeak / MiB,
      loopDelayMaxMs: delay.max / 1e6,
    };
  } finally {
    await server.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

if (require.main === module) {
  const count = Number(process.argv[2] ?? '100000');
  measureConnShow(count).then(
    (figures) => process.stdout.write(`${JSON.stringify(figures)}\n`),
    (error: Error) => {
      process.stderr.write(`conn-show: ${error.message}\n`);
      process.exitCode = 2;
    },
  );
}
