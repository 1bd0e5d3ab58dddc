// `msnl status` latency while 2000 abusive clients hammer the control socket (issue 15): the
// server runs in its own process (the real ControlServer and DaemonControl over
// bench/fake-connections.ts), the abusers in another (test/control/fixtures/abuser.ts: connect and
// close unread, 300 kB without a newline, idle, half-open, slowloris drip, garbage then reset,
// 100 at a time), and this process asks for the status every 10 ms throughout, as the CLI does.
// Client side: latency p50/p99/max. Server side: the longest event-loop delay, and the most CPU
// the server used between two 10 ms ticks (its own work holding the loop, as opposed to waiting
// for a CPU on a loaded machine). Usage: node dist/bench/control-abuse.js; one JSON line.
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import path from 'node:path';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { ControlClient } from '../src/control/client.js';
import { ControlServer } from '../src/control/server.js';
import { DaemonControl } from '../src/daemon/control-handler.js';
import { fakeDaemon } from './fake-connections.js';

export interface AbuseFigures {
  abusers: number;
  statusReplies: number;
  statusFailures: number;
  statusP50Ms: number;
  statusP99Ms: number;
  statusMaxMs: number;
  serverLoopDelayMaxMs: number;
  /** The most CPU the server used between two 10 ms ticks of its loop. */
  serverWorkMaxMs: number;
  /** The 1-minute load average when the run ended (on how many CPUs). */
  load: number;
  cpus: number;
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));
const ABUSER = path.join(__dirname, '..', 'test', 'control', 'fixtures', 'abuser.js');

/** The server side: serves until stdin closes, then prints its loop figures as one JSON line. */
async function serve(socketPath: string): Promise<void> {
  const server = new ControlServer(new DaemonControl(fakeDaemon(1000)), socketPath, { idleTimeoutMs: 500, lingerMs: 200 });
  await server.listen();
  const delay = monitorEventLoopDelay({ resolution: 5 });
  delay.enable();
  let [lastWall, lastCpu, workMax] = [performance.now(), process.cpuUsage(), 0];
  const timer = setInterval(() => {
    const [wall, cpu] = [performance.now(), process.cpuUsage()];
    workMax = Math.max(workMax, Math.min(wall - lastWall, (cpu.user - lastCpu.user + cpu.system - lastCpu.system) / 1000));
    [lastWall, lastCpu] = [wall, cpu];
  }, 10);
  process.stdout.write('ready\n');
  process.stdin.resume();
  await new Promise<void>((resolve) => process.stdin.once('end', resolve));
  clearInterval(timer);
  delay.disable();
  await server.close();
  process.stdout.write(`${JSON.stringify({ loopDelayMaxMs: delay.max / 1e6, workMaxMs: workMax })}\n`);
}

export async function measureAbuse(abusers = 2000): Promise<AbuseFigures> {
  const dir = mkdtempSync(path.join(tmpdir(), 'msnl-abuse-'));
  const socketPath = path.join(dir, 'msnld.sock');
  const server = spawn(process.execPath, [__filename, 'serve', socketPath], { stdio: ['pipe', 'pipe', 'inherit'] });
  let serverOut = '';
  server.stdout.setEncoding('utf8').on('data', (chunk: string) => (serverOut += chunk));
  try {
    const ready = Date.now() + 10_000;
    while (!serverOut.includes('ready\n')) {
      if (Date.now() > ready || server.exitCode !== null) throw new Error(`the control server did not start: ${serverOut.trim()}`);
      await sleep(20);
    }
    const abuser = spawn(process.execPath, [ABUSER, socketPath, String(abusers), '100'], { stdio: ['ignore', 'ignore', 'inherit'] });
    let running = true;
    abuser.on('exit', () => (running = false));
    const killer = setTimeout(() => abuser.kill('SIGKILL'), 120_000);
    const latencies: number[] = [];
    let failures = 0;
    while (running) {
      const started = process.hrtime.bigint();
      try {
        await new ControlClient(socketPath, { timeoutMs: 2000 }).status();
        latencies.push(Number(process.hrtime.bigint() - started) / 1e6);
      } catch {
        failures++;
      }
      await sleep(10);
    }
    clearTimeout(killer);
    server.stdin.end();
    await new Promise((resolve) => server.once('exit', resolve));
    const loop = JSON.parse(serverOut.trim().split('\n').pop() ?? '{}') as { loopDelayMaxMs: number; workMaxMs: number };
    latencies.sort((a, b) => a - b);
    const at = (p: number): number => latencies[Math.min(latencies.length - 1, Math.floor(latencies.length * p))] ?? NaN;
    return {
      abusers,
      statusReplies: latencies.length,
      statusFailures: failures,
      statusP50Ms: at(0.5),
      statusP99Ms: at(0.99),
      statusMaxMs: at(1),
      serverLoopDelayMaxMs: loop.loopDelayMaxMs,
      serverWorkMaxMs: loop.workMaxMs,
      load: loadavg()[0]!,
      cpus: cpus().length,
    };
  } finally {
    if (server.exitCode === null) server.kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  }
}

if (require.main === module) {
  const run = process.argv[2] === 'serve' ? serve(process.argv[3] ?? '') : measureAbuse(Number(process.argv[2] ?? '2000')).then((f) => void process.stdout.write(`${JSON.stringify(f)}\n`));
  run.catch((error: Error) => {
    process.stderr.write(`control-abuse: ${error.message}\n`);
    process.exitCode = 2;
  });
}
