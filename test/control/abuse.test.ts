// Issue 15, items 1-2: abusive local clients must neither crash the control server nor lock the
// CLI out. A real ControlServer on a real unix socket; the abusers run in a child process.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { ControlClient } from '../../src/control/client.js';
import { ControlServer } from '../../src/control/server.js';
import { FakeHandler, SAMPLE_STATUS } from './fake-handler.js';
import { withFakeServer } from './socket-helpers.js';

const openDescriptors = (): number => fs.readdirSync('/proc/self/fd').length;
const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

async function until(what: string, condition: () => boolean, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(20);
  }
}

function withServer(options: ConstructorParameters<typeof ControlServer>[2], body: (socketPath: string, server: ControlServer) => Promise<void>): Promise<void> {
  return withFakeServer((socketPath, _handler, server) => body(socketPath, server), options);
}

/** Opens a connection and resolves once it is connected; errors are swallowed (the test counts them). */
function connect(socketPath: string): Promise<net.Socket> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(socketPath);
    socket.on('error', () => undefined);
    socket.once('connect', () => resolve(socket));
    socket.once('close', () => reject(new Error('closed before connecting')));
  });
}

test('a refused client that closes without reading its EBUSY reply does not crash the server', async () => {
  // Issue 15 repro 1k: every slot busy, a newcomer connects and closes without reading.
  await withServer({ maxClients: 4 }, async (socketPath, server) => {
    const handler = (server as unknown as { handler: FakeHandler }).handler;
    handler.pingScript = [0.5];
    const pingers = await Promise.all(Array.from({ length: 4 }, () => connect(socketPath)));
    for (const socket of pingers) socket.write('ping=10.0.0.1\ninterval_ms=10\n\n');
    await until('four pings in progress', () => handler.pingCalls.length === 4, 5000);
    // Gone before the server answers: its EBUSY reply then meets EPIPE or ECONNRESET.
    await Promise.all(Array.from({ length: 50 }, () => connect(socketPath).then((refused) => refused.destroy())));
    const got = await new Promise<string>((resolve) => {
      const socket = net.connect(socketPath);
      let text = '';
      socket.on('data', (chunk) => (text += chunk.toString()));
      socket.on('error', () => undefined);
      socket.on('close', () => resolve(text));
    });
    assert.equal(got, 'protocol_version=1\nmessage=too many control clients\nerrno=-16\n\n');
    for (const socket of pingers) socket.destroy();
    await until('every refused socket released', () => server.connectionCount === 0, 5000);
    assert.deepEqual(await new ControlClient(socketPath).status(), SAMPLE_STATUS);
  });
});

test('idle clients past the limit make room: the oldest idle one is closed with ETIMEDOUT', async () => {
  await withServer({ maxClients: 8, idleTimeoutMs: 60_000 }, async (socketPath, server) => {
    const idle = await Promise.all(Array.from({ length: 8 }, () => connect(socketPath)));
    await until('eight clients', () => server.clientCount === 8, 5000);
    const oldestReply = new Promise<string>((resolve) => {
      let text = '';
      idle[0]!.on('data', (chunk) => (text += chunk.toString()));
      idle[0]!.on('close', () => resolve(text));
    });
    assert.deepEqual(await new ControlClient(socketPath).status(), SAMPLE_STATUS);
    assert.equal(await oldestReply, 'protocol_version=1\nmessage=closed to make room for another control client\nerrno=-110\n\n');
    for (const socket of idle) socket.destroy();
  });
});

test('a client that completes no request within the idle timeout is closed, however it drips', async () => {
  await withServer({ idleTimeoutMs: 300 }, async (socketPath, server) => {
    const started = Date.now();
    const socket = await connect(socketPath);
    const drip = setInterval(() => socket.write('g'), 30);
    const text = await new Promise<string>((resolve) => {
      let got = '';
      socket.on('data', (chunk) => (got += chunk.toString()));
      socket.on('close', () => resolve(got));
    });
    clearInterval(drip);
    const elapsed = Date.now() - started;
    assert.equal(text, 'protocol_version=1\nmessage=no request for 300 ms\nerrno=-110\n\n');
    assert.ok(elapsed >= 250 && elapsed < 5000, `closed after ${elapsed} ms`);
    await until('the socket released', () => server.connectionCount === 0, 5000);
  });
});

test('after an over-long line the server closes the connection even if the client keeps it open', async () => {
  await withServer({ lingerMs: 200 }, async (socketPath, server) => {
    const socket = await connect(socketPath);
    socket.pause(); // never reads: the old server then kept the socket for ever
    socket.write(Buffer.alloc(300_000, 0x78));
    await until('the server to drop the client', () => server.connectionCount === 0, 5000);
    socket.destroy();
  });
});

/**
 * Watches this process's event loop: the longest timer delay, and for every gap between 10 ms
 * ticks the CPU the process used in it. A gap with little CPU is time the kernel gave to other
 * processes (a loaded machine); a gap full of CPU is msnld's own work holding the loop.
 */
function loopWatch(): { stop: () => { delayMaxMs: number; delayP99Ms: number; ownWorkMaxMs: number; gapMaxMs: number; gapCpuMs: number } } {
  const delay = monitorEventLoopDelay({ resolution: 5 });
  delay.enable();
  let lastWall = performance.now();
  let lastCpu = process.cpuUsage();
  let ownWorkMaxMs = 0;
  let gapMaxMs = 0;
  let gapCpuMs = 0;
  const timer = setInterval(() => {
    const wall = performance.now();
    const cpu = process.cpuUsage();
    const used = (cpu.user - lastCpu.user + cpu.system - lastCpu.system) / 1000;
    ownWorkMaxMs = Math.max(ownWorkMaxMs, Math.min(used, wall - lastWall));
    if (wall - lastWall > gapMaxMs) [gapMaxMs, gapCpuMs] = [wall - lastWall, used];
    [lastWall, lastCpu] = [wall, cpu];
  }, 10);
  return {
    stop: () => {
      clearInterval(timer);
      delay.disable();
      return { delayMaxMs: delay.max / 1e6, delayP99Ms: delay.percentile(99) / 1e6, ownWorkMaxMs, gapMaxMs, gapCpuMs };
    },
  };
}

const percentile = (sorted: readonly number[], p: number): number => sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * p))] ?? Infinity;

test('2000 abusive clients: no crash, status answers throughout, descriptors back to baseline', async () => {
  await withServer({ idleTimeoutMs: 500, lingerMs: 200 }, async (socketPath, server) => {
    const baseline = openDescriptors();
    const child = spawn(process.execPath, [path.join(__dirname, 'fixtures', 'abuser.js'), socketPath, '2000', '100'], { stdio: ['ignore', 'pipe', 'inherit'] });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    let running = true;
    void exited.then(() => (running = false));
    const latencies: number[] = [];
    const failures: string[] = [];
    const killer = setTimeout(() => child.kill('SIGKILL'), 120_000);
    // The server and the status client share this process: its loop is the server's loop.
    const watch = loopWatch();
    let loop: ReturnType<ReturnType<typeof loopWatch>['stop']>;
    try {
      while (running) {
        const started = process.hrtime.bigint();
        try {
          assert.deepEqual(await new ControlClient(socketPath, { timeoutMs: 2000 }).status(), SAMPLE_STATUS);
          latencies.push(Number(process.hrtime.bigint() - started) / 1e6);
        } catch (error) {
          failures.push((error as Error).message);
        }
        await sleep(10);
      }
    } finally {
      clearTimeout(killer);
      loop = watch.stop();
    }
    assert.equal(await exited, 0);
    const report = JSON.parse(output) as { outcomes: Record<string, number> };
    assert.equal(report.outcomes['gave-up'], 0, `abusers the server never closed: ${output}`);
    latencies.sort((a, b) => a - b);
    const [median, p95, p99, max] = [0.5, 0.95, 0.99, 1].map((p) => percentile(latencies, p)) as [number, number, number, number];
    console.log(
      `status under abuse: ${latencies.length} replies, median ${median.toFixed(1)} ms, p95 ${p95.toFixed(1)} ms, p99 ${p99.toFixed(1)} ms, max ${max.toFixed(1)} ms; ` +
        `event loop: delay p99 ${loop.delayP99Ms.toFixed(1)} ms, max ${loop.delayMaxMs.toFixed(1)} ms; longest gap ${loop.gapMaxMs.toFixed(0)} ms of which ${loop.gapCpuMs.toFixed(0)} ms CPU; ` +
        `most CPU in one gap ${loop.ownWorkMaxMs.toFixed(0)} ms; load ${os.loadavg()[0]!.toFixed(1)} on ${os.cpus().length} CPUs; abusers ${output.trim()}`,
    );
    assert.deepEqual(failures, []);
    assert.ok(latencies.length >= 20, `only ${latencies.length} status replies`);
    // The product's own bound: msnld's work never holds its loop for 100 ms at a stretch, so
    // status could always be answered within 100 ms. (CPU per gap includes the status client,
    // the test's own bookkeeping and GC threads: an upper bound on the server's work.)
    assert.ok(loop.ownWorkMaxMs < 100, `the process worked ${loop.ownWorkMaxMs.toFixed(0)} ms without turning its event loop`);
    // What a client sees also depends on the scheduler: on this 2-core box shared with other
    // suites (load 8-10) waits of 100-450 ms come from being descheduled, not from msnld: with
    // the server and client at SCHED_FIFO and the same abuse, max was 13-20 ms (bench/README.md).
    // So these are liveness bounds, not the benchmark (bench/control-abuse.ts is).
    assert.ok(median < 100, `median status reply ${median.toFixed(1)} ms`);
    assert.ok(max < 1000, `slowest status reply ${max.toFixed(1)} ms`);
    await until('every abusive socket released', () => server.connectionCount === 0, 5000);
    await until(`descriptors back to ${baseline}`, () => openDescriptors() <= baseline, 5000);
  });
});

test('a burst of 1500 connects in one tick queues instead of failing EAGAIN, and status still answers', async () => {
  await withServer({ lingerMs: 200 }, async (socketPath, server) => {
    const errors: string[] = [];
    const burst = Array.from({ length: 1500 }, () => {
      const socket = net.connect(socketPath);
      socket.on('error', (error: NodeJS.ErrnoException) => errors.push(error.code ?? error.message));
      return socket;
    });
    const status = new ControlClient(socketPath, { timeoutMs: 10_000 }).status();
    assert.deepEqual(await status, SAMPLE_STATUS);
    await until('all 1500 connected or failed', () => burst.every((s) => !s.connecting), 20_000);
    assert.deepEqual([...new Set(errors)].filter((code) => code !== 'ECONNRESET' && code !== 'EPIPE'), [], 'no connect failed (EAGAIN: backlog full)');
    for (const socket of burst) socket.destroy();
    await until('every socket released', () => server.connectionCount === 0, 10_000);
  });
});
