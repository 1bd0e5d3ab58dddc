// msnld: environment, signals and wiring; its command line is msnld-flags.ts, the engine daemon.ts. Loaded by main.ts.

import { spawn, spawnSync } from 'node:child_process';
import { openSync, closeSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { makeDirectories } from '../base/files.js';
import path from 'node:path';
import { CommanderError } from 'commander';
import { ControlServer, probeSocket } from '../control/server.js';
import { ControlClient } from '../control/client.js';
import { openStore, type Store } from '../store/store.js';
import { openTun, type TunDevice } from '../tun/device.js';
import type { TunnelInterfaceSpec } from '../abi/interfaces.js';
import { MAX_PACKET_SIZE } from '../msnl/constants.js';
import { openAddrMonitor, type AddrEventSource } from '../tun/addr-events.js';
import { Daemon } from './daemon.js';
import { DaemonControl } from './control-handler.js';
import { useNativeHandshake } from './aead.js';
import { VERSION } from '../base/version.js';
import { instancePaths, netnsNameProblem } from '../base/instance.js';
import { causeOf, createLogger, type Logger } from '../base/logger.js';
import { bufferedSink, fileSink, stderrSink, type LogSink } from '../base/log-sink.js';
import { UdpUnderlay } from '../msdl/udp.js';
import { loadNative } from '../tun/native.js';
import { notifierFromEnv } from './sd-notify.js';
import { startWarmUp, WARM_UP_READY_MS, WHOLE_DAEMONS_ROUNDS, type RunningWarmUp } from './warm-daemons.js';
import { MetricsServer } from './metrics-server.js';
import { startFleet } from './fleet-wiring.js';
import { program, settingsFrom, type Flags, type Settings } from './msnld-flags.js';
import type { FleetSession } from '../fleet/session.js';

/** Connection lines (up, down, failed, refused) logged one by one per second below debug. */
export const CONNECTION_LINES_PER_SECOND = 50;

/** The pid of the msnld answering on the control socket, or undefined when none answers. */
async function answeringPid(socket: string): Promise<number | undefined> {
  if ((await probeSocket(socket, 500)) !== 'in-use') return undefined;
  try {
    return (await new ControlClient(socket, { timeoutMs: 1000 }).status()).pid;
  } catch {
    return undefined;
  }
}

/**
 * Starts a detached copy in the foreground mode and waits until that copy (by pid) answers on
 * its control socket. Refuses at once when another msnld already answers there.
 */
async function detach(settings: Settings): Promise<number> {
  const { flags } = settings;
  const running = await answeringPid(flags.socket);
  if (running !== undefined) {
    process.stderr.write(
      `Error: failed to start: msnld pid ${running} already answers on ${flags.socket}` +
        ` (another instance? give it its own --socket and --db, or -n NETNS for a namespace)\n`,
    );
    return 2;
  }
  makeDirectories(path.dirname(flags.logFile), 0o755); // not mkdirSync(recursive): it spins under /proc
  const log = openSync(flags.logFile, 'a');
  const child = spawn(process.execPath, [path.join(__dirname, 'main.js'), ...process.argv.slice(2), '--foreground', '--log-file', flags.logFile], { detached: true, stdio: ['ignore', log, log] });
  closeSync(log);
  const deadline = Date.now() + 15_000;
  while (Date.now() < deadline && child.exitCode === null) {
    if ((await answeringPid(flags.socket)) === child.pid) {
      child.unref();
      process.stdout.write(`msnld: started (pid ${child.pid}), logging to ${flags.logFile}\n`);
      return 0;
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  const tail = (() => {
    try {
      return readFileSync(flags.logFile, 'utf8').trimEnd().split('\n').slice(-5).join('\n');
    } catch {
      return '';
    }
  })();
  process.stderr.write(`Error: msnld did not start${child.exitCode !== null ? ` (exit ${child.exitCode})` : ''}; see ${flags.logFile}\n${tail}\n`);
  if (child.exitCode === null) child.kill('SIGTERM');
  return 2;
}

/**
 * Opens one msN device, with TCP segmentation offload unless --no-offload or the MTU is 64 KiB
 * (ms3: a super-packet would hold one segment, and its checksum is cheaper in the kernel than in
 * JavaScript). Its transmit queue is deepened from the kernel's 500 to 1000 packets:
 * with 500, a TCP sender through ms0 overran it whenever msnld paused for a moment, and every
 * overrun was a retransmission (hundreds per second under iperf3; none with 1000).
 */
function openInterface(spec: TunnelInterfaceSpec, offload: boolean, readRing: boolean, log: Logger): TunDevice {
  const device = openTun(spec.name, { mtu: spec.mtu, offload: offload && spec.mtu < MAX_PACKET_SIZE, readRing });
  try {
    writeFileSync(`/sys/class/net/${spec.name}/tx_queue_len`, '1000');
  } catch (error) {
    log.verbose(`failed to set the transmit queue length of ${spec.name}: ${causeOf(error)}`);
  }
  return device;
}

/** How long SIGTERM waits for the control socket to close before stopping the daemon anyway. */
const STOP_CONTROL_MS = 500;
/** After SIGTERM, the process exits by this time whatever still runs. */
const STOP_DEADLINE_MS = 1800;

/** Resolves when `work` settles or after `ms`, whichever is first; rejects only with `work`. */
function boundedBy(ms: number, work: Promise<void>): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const elapsed = new Promise<void>((resolve) => (timer = setTimeout(resolve, ms)));
  return Promise.race([work, elapsed]).finally(() => clearTimeout(timer));
}

/** `logWrite`: what `log` writes its lines with (the warm-up sends empty lines through it). */
async function runForeground(settings: Settings, log: Logger, sink: LogSink, logWrite: (line: string) => void): Promise<number> {
  const parts = await startDaemon(settings, log, logWrite);
  if (typeof parts === 'number') return parts;
  let fleet: FleetSession | undefined;
  try {
    fleet = startFleet(settings.flags, parts.store, parts.daemon, log);
  } catch (error) {
    log.error(`failed to join the fleet: ${causeOf(error)}`);
    await parts.warmUp.stop();
    await parts.daemon.stop();
    parts.store.close();
    return 2;
  }
  const servers = await startServers(settings, parts.daemon, log, fleet);
  if (servers === undefined) {
    await fleet?.stop();
    await parts.warmUp.stop();
    await parts.daemon.stop();
    parts.store.close();
    return 2;
  }
  const { flags } = settings;
  log.info(`msnld ${VERSION} running (pid ${process.pid}), control socket ${flags.socket}, database ${flags.db}`);
  return runUntilSignal({ ...parts, ...servers, fleet }, settings, log, sink);
}

/** Opens the database, the address monitor and the daemon with ms0..ms3, and starts it; an exit code when it cannot. */
async function startDaemon(settings: Settings, log: Logger, logWrite: (line: string) => void): Promise<{ store: Store; daemon: Daemon<unknown>; warmUp: RunningWarmUp } | number> {
  const { flags } = settings;
  if ((await probeSocket(flags.socket, 1000)) === 'in-use') {
    log.error(`failed to start: another msnld answers on ${flags.socket}`);
    return 2;
  }
  let store: Store;
  try {
    store = openStore(flags.db);
  } catch (error) {
    log.error(`failed to open database ${flags.db}: ${causeOf(error)}`);
    return 2;
  }
  let addrEvents: AddrEventSource | undefined;
  try {
    addrEvents = openAddrMonitor();
  } catch (error) {
    log.error(`failed to watch interface addresses: ${causeOf(error)}`);
  }
  // Once for the process: every handshake (the daemon's, the warm-up's) does its X25519 and HKDF
  // in the addon, with no node:crypto object per key or HMAC.
  useNativeHandshake();
  let daemon: Daemon<unknown>;
  try {
    daemon = new Daemon({
      store,
      underlay: new UdpUnderlay(log, { segmentation: flags.gso !== false, receiveBufferSize: settings.receiveBuffer }),
      openTun: (spec) => openInterface(spec, flags.offload !== false, flags.ioUring !== false, log),
      addrEvents,
      log,
      address: settings.address,
      listen: settings.listen,
      // man/msnld.8 DIAGNOSTICS: at debug every connection line; below, a storm is summarised.
      connectionLinesPerSecond: settings.logLevel === 'debug' ? 0 : CONNECTION_LINES_PER_SECOND,
      endpointConfig: { idleMs: settings.idleMs, ...(settings.rekeyAfterMs === undefined ? {} : { rekeyAfterMs: settings.rekeyAfterMs }) },
    }) as Daemon<unknown>;
  } catch (error) {
    log.error(`failed to create the tunnel interfaces: ${causeOf(error)}`);
    addrEvents?.close();
    store.close();
    return 2;
  }
  await daemon.start();
  // The code of a first call is warmed (warm-daemons.ts) in turns of the event loop: peers that
  // call meanwhile are answered, each waiting for at most one throwaway call. msnld is ready when
  // it is done or after WARM_UP_READY_MS, whichever is first; the rest goes on in the background.
  const warmUp = startWarmUp(daemon.endpoint.publicKey !== null, log, WHOLE_DAEMONS_ROUNDS, () => {
    logWrite('');
    daemon.pollNow();
  });
  await boundedBy(WARM_UP_READY_MS, warmUp.done);
  return { store, daemon, warmUp };
}

interface Servers {
  readonly control: ControlServer;
  readonly metrics: MetricsServer | undefined;
}

/** The control socket and, when asked for, the metrics endpoint; undefined (logged) when one cannot listen. */
async function startServers(settings: Settings, daemon: Daemon<unknown>, log: Logger, fleet?: FleetSession): Promise<Servers | undefined> {
  const { flags } = settings;
  const handler = new DaemonControl(daemon, Date.now, { db: flags.db, socket: flags.socket }, fleet === undefined ? undefined : () => fleet.describe());
  const control = new ControlServer(handler, flags.socket, { log: (line: string) => log.verbose(line) });
  try {
    await control.listen();
  } catch (error) {
    log.error(causeOf(error));
    return undefined;
  }
  if (settings.metrics === undefined) return { control, metrics: undefined };
  const { host, port } = settings.metrics;
  const metrics = new MetricsServer(() => handler.metrics());
  try {
    const bound = await metrics.listen(host, port);
    log.info(`serving metrics at http://${bound.host.includes(':') ? `[${bound.host}]` : bound.host}:${bound.port}/metrics`);
    return { control, metrics };
  } catch (error) {
    log.error(`failed to serve metrics on ${host}:${port}: ${causeOf(error)}`);
    await boundedBy(STOP_CONTROL_MS, control.close());
    return undefined;
  }
}

/** Tells systemd msnld is ready, then serves until SIGTERM/SIGINT; SIGHUP reconciles, SIGUSR1 reopens the log. */
function runUntilSignal(parts: { store: Store; daemon: Daemon<unknown>; fleet?: FleetSession; warmUp: RunningWarmUp } & Servers, settings: Settings, log: Logger, sink: LogSink): Promise<number> {
  const { flags } = settings;
  const { store, daemon, control, metrics, fleet, warmUp } = parts;
  // The control socket answers and ms0..ms3 exist (the Daemon constructor opened them): ready.
  const systemd = notifierFromEnv(process.env, (to, message) => loadNative().sendUnixDatagram(to, message), (line) => log.error(line));
  systemd?.send({ READY: 1, MAINPID: process.pid, STATUS: `running, control socket ${flags.socket}` });
  return new Promise<number>((resolve) => {
    let stopping = false;
    const stop = (signal: string): void => {
      if (stopping) return;
      stopping = true;
      log.info(`${signal}: disconnecting every connection and exiting`);
      systemd?.send({ STOPPING: 1 });
      // Nothing a control client does may hold the exit up: close() destroys every client
      // socket, and is not waited on longer than STOP_CONTROL_MS in any case. Should the rest
      // still hang, the process exits after STOP_DEADLINE_MS; the kernel then drops ms0..ms3.
      setTimeout(() => {
        log.error(`failed to stop within ${STOP_DEADLINE_MS} ms; exiting anyway`);
        process.exit(2);
      }, STOP_DEADLINE_MS).unref();
      void (async () => {
        await boundedBy(STOP_CONTROL_MS, control.close()).catch((error: unknown) => log.error(`failed to close control socket: ${causeOf(error)}`));
        await boundedBy(STOP_CONTROL_MS, metrics?.close() ?? Promise.resolve());
        await boundedBy(STOP_CONTROL_MS, fleet?.stop() ?? Promise.resolve());
        await boundedBy(STOP_CONTROL_MS, warmUp.stop());
        await daemon.stop();
        store.close();
        resolve(0);
      })();
    };
    process.on('SIGTERM', () => stop('SIGTERM'));
    process.on('SIGINT', () => stop('SIGINT'));
    process.on('SIGUSR1', () => {
      const problem = sink.reopen();
      if (problem === undefined) log.info(`SIGUSR1: reopened the log file ${flags.logFile}`);
      else log.error(`failed to reopen the log file ${flags.logFile}: ${problem}`);
    });
    process.on('SIGHUP', () => {
      log.info('SIGHUP: reconciling with the database');
      systemd?.send({ RELOADING: 1 });
      void daemon
        .reconcile(true)
        .catch((error: unknown) => log.error(`failed to reconcile: ${causeOf(error)}`))
        .finally(() => systemd?.send({ READY: 1 }));
    });
  });
}

/** Whether this process runs in namespace `name`; undefined when there is no such namespace. */
function inNetns(name: string): boolean | undefined {
  try {
    const target = statSync(`/run/netns/${name}`);
    const self = statSync('/proc/self/ns/net');
    return target.ino === self.ino && target.dev === self.dev;
  } catch {
    return undefined;
  }
}

async function main(argv: readonly string[]): Promise<number> {
  const cmd = program();
  try {
    cmd.parse(argv as string[], { from: 'user' });
  } catch (error) {
    if (error instanceof CommanderError) return error.exitCode === 0 ? 0 : 1;
    throw error;
  }
  const flags = cmd.opts<Flags>();
  if (flags.netns !== undefined) {
    const problem = netnsNameProblem(flags.netns);
    if (problem !== undefined) {
      process.stderr.write(`Error: argument "${flags.netns}" is wrong: ${problem}\n`);
      return 1;
    }
    // Explicit --db/--socket/--log-file win; otherwise the instance's paths, before the environment.
    const paths = instancePaths(flags.netns);
    if (cmd.getOptionValueSource('db') !== 'cli') flags.db = paths.db;
    if (cmd.getOptionValueSource('socket') !== 'cli') flags.socket = paths.socket;
    if (cmd.getOptionValueSource('logFile') !== 'cli') flags.logFile = paths.logFile;
    const inside = inNetns(flags.netns);
    if (inside === undefined) {
      process.stderr.write(`Error: failed to start: no network namespace ${flags.netns} (/run/netns/${flags.netns}; ip netns add ${flags.netns})\n`);
      return 2;
    }
    if (!inside) {
      const run = spawnSync('ip', ['netns', 'exec', flags.netns, process.execPath, path.join(__dirname, 'main.js'), ...argv], { stdio: 'inherit' });
      if (run.error !== undefined) {
        process.stderr.write(`Error: failed to enter network namespace ${flags.netns}: ${causeOf(run.error)}\n`);
        return 2;
      }
      return run.status ?? 2;
    }
  }
  let settings: Settings;
  try {
    const logFileGiven = cmd.getOptionValueSource('logFile') === 'cli' || (process.env.MSNL_LOG_FILE ?? '') !== '';
    settings = settingsFrom(flags, logFileGiven);
  } catch (error) {
    process.stderr.write(`Error: ${causeOf(error)}\n`);
    return 1;
  }
  if (settings.flags.foreground !== true) return detach(settings);
  let sink: ReturnType<typeof bufferedSink>;
  try {
    sink = bufferedSink(settings.logToFile ? fileSink(settings.flags.logFile) : stderrSink(process.env));
  } catch (error) {
    process.stderr.write(`msnld: error: failed to open the log file ${settings.flags.logFile}: ${causeOf(error)}\n`);
    return 2;
  }
  const write = (line: string): void => sink.write(line);
  const log = createLogger(settings.logLevel, write, { style: sink.style, urgent: (line) => sink.writeNow(line) });
  flushLog = () => sink.flush();
  return runForeground(settings, log, sink, write);
}

/** Writes out the buffered log lines (before a line written past the logger). */
let flushLog = (): void => undefined;

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (error: unknown) => {
    flushLog();
    process.stderr.write(`msnld: error: failed to run: ${causeOf(error)}\n`);
    process.exit(2);
  },
);
