// A small MSNL network on one machine: hosts in network namespaces joined by a veth underlay.
// Used by `npm run demo`, the root-only suite in test/netns and the benchmarks. Every name it
// creates carries a tag and this process's pid, and destroy() removes all of it: daemons (by the
// PIDs it started), namespaces (their veth ends go with them) and the temporary directory.

import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, openSync, closeSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { probeSocket } from '../control/socket-file.js';

/** The package root, found from this compiled file (dist/src/demo/topology.js). */
export const PACKAGE_ROOT = path.resolve(__dirname, '..', '..', '..');
export const MSNLD = path.join(PACKAGE_ROOT, 'dist', 'src', 'daemon', 'main.js');
export const MSNL = path.join(PACKAGE_ROOT, 'dist', 'src', 'cli', 'main.js');

/** The UDP port every host's msnld listens on in the underlay. */
export const UNDERLAY_PORT = 7010;

export interface CommandResult {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

export interface Host {
  /** 1-based host number. */
  readonly index: number;
  /** The network namespace holding this host. */
  readonly netns: string;
  /** Underlay address: IPv4 (TEST-NET-1, 192.0.2.N) or, on an IPv6 underlay, 2001:db8::N. */
  readonly underlay: string;
  /** The underlay address and msnld's port as `HOST:PORT` (IPv6 in brackets). */
  readonly listen: string;
  /** The IPv6 underlay address (2001:db8::N) of an IPv6 or dual-stack underlay, else undefined. */
  readonly underlay6: string | undefined;
  /** This host's default MSNL address. */
  readonly msnlAddress: string;
  readonly db: string;
  readonly socket: string;
  readonly log: string;
  daemon?: ChildProcess;
}

export interface TopologyOptions {
  /** Short tag in every name, e.g. 'demo' or 'test'. */
  readonly tag: string;
  /** Number of hosts, 2..9. Two hosts share a veth pair; more hang off a bridge. */
  readonly hosts: number;
  /** MTU of the underlay links. */
  readonly underlayMtu?: number;
  /** The underlay's address family (default 4: 192.0.2.N; 6: 2001:db8::N, the documentation
   *  prefix; 'dual': both, with `underlay` the IPv4 one). */
  readonly underlayFamily?: 4 | 6 | 'dual';
}

/** Runs a command with a bound on its time; never throws for a non-zero exit. */
export function run(argv: readonly string[], timeoutMs = 30_000): CommandResult {
  const [file, ...args] = argv;
  if (file === undefined) throw new Error('run: empty command');
  const result = spawnSync(file, args, { encoding: 'utf8', timeout: timeoutMs, maxBuffer: 1 << 26 });
  if (result.error !== undefined && (result.error as NodeJS.ErrnoException).code === 'ENOENT') {
    return { code: 127, stdout: '', stderr: `${file}: command not found` };
  }
  return { code: result.status ?? 124, stdout: result.stdout ?? '', stderr: result.stderr ?? '' };
}

/** Runs a command and throws with its stderr when it fails (setup steps that must not fail). */
export function must(argv: readonly string[], timeoutMs = 30_000): string {
  const result = run(argv, timeoutMs);
  if (result.code !== 0) throw new Error(`failed to run ${argv.join(' ')}: ${result.stderr.trim() || `exit ${result.code}`}`);
  return result.stdout;
}

/** The system tools the topology needs, with the Debian package that has each. */
export function missingTools(tools: ReadonlyArray<readonly [string, string]>): string[] {
  return tools.filter(([tool]) => run(['sh', '-c', `command -v ${tool}`]).code !== 0).map(([, pkg]) => pkg);
}

export class Topology {
  readonly hosts: Host[] = [];
  readonly dir: string;
  private readonly switchNs: string | undefined;
  private destroyed = false;

  private constructor(readonly options: TopologyOptions) {
    this.dir = mkdtempSync(path.join(tmpdir(), `msnl-${options.tag}-`));
    const base = `msnl-${options.tag}-${process.pid}`;
    this.switchNs = options.hosts > 2 ? `${base}-sw` : undefined;
    const v6 = options.underlayFamily === 6;
    for (let i = 1; i <= options.hosts; i++) {
      const underlay = v6 ? `2001:db8::${i}` : `192.0.2.${i}`;
      this.hosts.push({
        index: i,
        netns: `${base}-h${i}`,
        underlay,
        listen: v6 ? `[${underlay}]:${UNDERLAY_PORT}` : `${underlay}:${UNDERLAY_PORT}`,
        underlay6: options.underlayFamily === undefined || options.underlayFamily === 4 ? undefined : `2001:db8::${i}`,
        msnlAddress: `128.232.0.${i}`,
        // Each host's database and socket in a folder of its own, the logs beside them, as on a real
        // host (/var/lib/msnl, /var/log): msnld watches its database's folder, and a log line of
        // either host in that folder woke both daemons on every call (bench/README.md, issue 20).
        db: path.join(this.dir, `h${i}`, `h${i}.db`),
        socket: path.join(this.dir, `h${i}`, `h${i}.sock`),
        log: path.join(this.dir, `h${i}.log`),
      });
      mkdirSync(path.join(this.dir, `h${i}`));
    }
  }

  /** Builds the namespaces and the underlay. On failure, removes what it made and rethrows. */
  static create(options: TopologyOptions): Topology {
    if (options.hosts < 2 || options.hosts > 9) throw new Error('a topology has 2 to 9 hosts');
    Topology.sweepStale();
    const topology = new Topology(options);
    try {
      topology.build();
    } catch (error) {
      topology.destroy();
      throw error;
    }
    return topology;
  }

  private build(): void {
    const mtu = String(this.options.underlayMtu ?? 1500);
    for (const host of this.hosts) {
      must(['ip', 'netns', 'add', host.netns]);
      must(['ip', '-n', host.netns, 'link', 'set', 'lo', 'up']);
      // No IPv6 chatter into the tunnels, nor on an IPv4 underlay (an IPv6 one turns it on for u0 only).
      must(['ip', 'netns', 'exec', host.netns, 'sh', '-c', 'echo 1 > /proc/sys/net/ipv6/conf/all/disable_ipv6 && echo 1 > /proc/sys/net/ipv6/conf/default/disable_ipv6']);
    }
    const [first, second] = this.hosts;
    if (this.switchNs === undefined && first !== undefined && second !== undefined) {
      must(['ip', 'link', 'add', 'u0', 'netns', first.netns, 'mtu', mtu, 'type', 'veth', 'peer', 'name', 'u0', 'netns', second.netns, 'mtu', mtu]);
    } else if (this.switchNs !== undefined) {
      must(['ip', 'netns', 'add', this.switchNs]);
      must(['ip', '-n', this.switchNs, 'link', 'add', 'br0', 'mtu', mtu, 'type', 'bridge']);
      must(['ip', '-n', this.switchNs, 'link', 'set', 'br0', 'up']);
      for (const host of this.hosts) {
        const port = `p${host.index}`;
        must(['ip', 'link', 'add', 'u0', 'netns', host.netns, 'mtu', mtu, 'type', 'veth', 'peer', 'name', port, 'netns', this.switchNs, 'mtu', mtu]);
        must(['ip', '-n', this.switchNs, 'link', 'set', port, 'master', 'br0', 'up']);
      }
    }
    for (const host of this.hosts) {
      if (host.underlay6 !== undefined) {
        must(['ip', 'netns', 'exec', host.netns, 'sh', '-c', 'echo 0 > /proc/sys/net/ipv6/conf/u0/disable_ipv6']);
        must(['ip', '-n', host.netns, 'addr', 'add', `${host.underlay6}/64`, 'dev', 'u0', 'nodad']);
      }
      if (this.options.underlayFamily !== 6) must(['ip', '-n', host.netns, 'addr', 'add', `${host.underlay}/24`, 'dev', 'u0']);
      must(['ip', '-n', host.netns, 'link', 'set', 'u0', 'up']);
    }
  }

  /**
   * Removes namespaces named by this module (msnl-TAG-PID-...) whose creating process no longer
   * exists: what a run killed with SIGKILL, or by a timeout, could not remove itself.
   */
  static sweepStale(): string[] {
    const swept: string[] = [];
    for (const line of run(['ip', 'netns', 'list']).stdout.split('\n')) {
      const name = line.split(' ')[0] ?? '';
      const pid = Number(/^msnl-[a-z]+-(\d+)-(?:h\d|sw)$/.exec(name)?.[1] ?? NaN);
      if (!Number.isInteger(pid) || pid === process.pid) continue;
      try {
        process.kill(pid, 0);
        continue; // its creator still runs
      } catch {
        // gone: the namespace is stale
      }
      for (const p of run(['ip', 'netns', 'pids', name]).stdout.split('\n').filter(Boolean)) {
        try { process.kill(Number(p), 'SIGKILL'); } catch { /* already gone */ }
      }
      if (run(['ip', 'netns', 'del', name]).code === 0) swept.push(name);
    }
    return swept;
  }

  host(index: number): Host {
    const host = this.hosts[index - 1];
    if (host === undefined) throw new Error(`no host ${index}`);
    return host;
  }

  /** Runs a command inside a host's namespace. */
  exec(host: Host, argv: readonly string[], timeoutMs = 30_000): CommandResult {
    return run(['ip', 'netns', 'exec', host.netns, ...argv], timeoutMs);
  }

  /** Runs a command inside a host's namespace without blocking the event loop. */
  execAsync(host: Host, argv: readonly string[], timeoutMs = 30_000): Promise<CommandResult> {
    return new Promise((resolve) => {
      const child = spawn('ip', ['netns', 'exec', host.netns, ...argv], { stdio: ['ignore', 'pipe', 'pipe'] });
      let stdout = '';
      let stderr = '';
      child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
      child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
      const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
      child.on('error', (error) => {
        clearTimeout(timer);
        resolve({ code: 127, stdout, stderr: stderr + String(error) });
      });
      child.on('close', (code) => {
        clearTimeout(timer);
        resolve({ code: code ?? 124, stdout, stderr });
      });
    });
  }

  /** Runs the msnl CLI on a host, against that host's database and control socket. */
  msnl(host: Host, args: readonly string[], timeoutMs = 30_000): CommandResult {
    return this.exec(host, [process.execPath, MSNL, '--db', host.db, '--socket', host.socket, ...args], timeoutMs);
  }

  /** Like msnl() but throws when the command fails. */
  mustMsnl(host: Host, args: readonly string[]): string {
    const result = this.msnl(host, args);
    if (result.code !== 0) throw new Error(`msnl ${args.join(' ')} on h${host.index} failed (exit ${result.code}): ${result.stderr.trim()}`);
    return result.stdout;
  }

  /** A host's public key (secure MSNL), made by `msnl host key generate` the first time it is asked for. */
  publicKey(host: Host): string {
    const shown = (JSON.parse(this.mustMsnl(host, ['-j', 'host'])) as { public_key: string }).public_key;
    return shown !== '' ? shown : this.mustMsnl(host, ['host', 'key', 'generate']).trim();
  }

  /** Starts msnld in a host's namespace, logging to host.log, and waits for its control socket.
   *  `nodeArgs` go to node itself (e.g. `--cpu-prof` for profiling); `listen` defaults to host.listen. */
  async startDaemon(host: Host, extraArgs: readonly string[] = [], nodeArgs: readonly string[] = [], listen = host.listen): Promise<ChildProcess> {
    if (host.daemon !== undefined && host.daemon.exitCode === null && host.daemon.signalCode === null) throw new Error(`msnld already runs on h${host.index}`);
    const log = openSync(host.log, 'a');
    const argv = ['netns', 'exec', host.netns, process.execPath, ...nodeArgs, MSNLD, '--foreground', '--db', host.db, '--socket', host.socket,
      '--listen', listen, '--log-level', 'verbose', ...extraArgs];
    const child = spawn('ip', argv, { stdio: ['ignore', log, log] });
    closeSync(log);
    host.daemon = child;
    const deadline = Date.now() + 15_000;
    while (Date.now() < deadline) {
      if (child.exitCode !== null) throw new Error(`msnld on h${host.index} exited with ${child.exitCode}: ${this.tail(host)}`);
      if ((await probeSocket(host.socket, 500)) === 'in-use') return child;
      await sleep(100);
    }
    throw new Error(`msnld on h${host.index} did not answer on ${host.socket} within 15 s: ${this.tail(host)}`);
  }

  /** Stops a host's daemon with a signal and waits (bounded) for it to exit; returns its exit code. */
  async stopDaemon(host: Host, signal: NodeJS.Signals = 'SIGTERM', timeoutMs = 10_000): Promise<number | null> {
    const child = host.daemon;
    if (child === undefined || child.exitCode !== null || child.signalCode !== null) return child?.exitCode ?? null;
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    child.kill(signal);
    const timer = new Promise<void>((resolve) => setTimeout(resolve, timeoutMs).unref());
    await Promise.race([exited, timer]);
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGKILL');
      await Promise.race([exited, new Promise<void>((resolve) => setTimeout(resolve, 2_000).unref())]);
    }
    return child.exitCode;
  }

  /** The last lines of a host's daemon log, for error messages. */
  tail(host: Host, lines = 15): string {
    try {
      return readFileSync(host.log, 'utf8').trimEnd().split('\n').slice(-lines).join('\n');
    } catch {
      return '(no log)';
    }
  }

  /** Removes everything this topology made. Safe to call more than once and after partial builds. */
  async destroy(): Promise<void> {
    if (this.destroyed) return;
    this.destroyed = true;
    for (const host of this.hosts) await this.stopDaemon(host).catch(() => undefined);
    for (const ns of [...this.hosts.map((h) => h.netns), ...(this.switchNs === undefined ? [] : [this.switchNs])]) {
      run(['ip', 'netns', 'pids', ns]).stdout.split('\n').filter(Boolean).forEach((pid) => {
        // Only processes started inside our own namespaces can be here.
        try { process.kill(Number(pid), 'SIGKILL'); } catch { /* already gone */ }
      });
      run(['ip', 'netns', 'del', ns]);
    }
    rmSync(this.dir, { recursive: true, force: true });
  }

  /** Namespaces of this topology that still exist (for leak checks). */
  leftovers(): string[] {
    const listed = run(['ip', 'netns', 'list']).stdout;
    const names = [...this.hosts.map((h) => h.netns), ...(this.switchNs === undefined ? [] : [this.switchNs])];
    return names.filter((name) => listed.split('\n').some((line) => line.split(' ')[0] === name));
  }
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
