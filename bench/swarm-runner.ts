// Starts bench/swarm.ts for N callers in a host's namespace: as many processes as N needs (at most
// SWARM_PROCESS_MAX callers each, so no process meets the descriptor limit), callers 1..N split
// among them. Gathers their reports into one: how many came up, how long the slowest took, and
// every failure with its reason; a process that ends early or says "Error: ..." fails the whole
// swarm loudly, with its own words.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { PACKAGE_ROOT, sleep, type Host } from '../src/demo/topology.js';
import { SWARM_PROCESS_MAX } from './swarm.js';

export interface SwarmUp {
  readonly connected: number;
  readonly failed: number;
  /** From the first call to the last answer, the slowest process's figure (s). */
  readonly seconds: number;
  /** "REASON/CODE=N ..." of every process, or '' when none failed. */
  readonly failures: string;
  /** Call requests the callers sent again, and calls they made again after a timeout. */
  readonly resent: number;
  readonly redialled: number;
}

export class Swarm {
  private readonly children: ChildProcess[] = [];
  private readonly outputs: string[] = [];
  private calling = false;

  /** Starts `n` callers in `client` calling `server`'s listening address. */
  constructor(client: Host, server: Host, readonly n: number) {
    // All the callers share the client's one underlay address, so one neighbour (ARP) resolution
    // gates them all: a storm sent before it is done would mostly die in the kernel's queue for an
    // unresolved neighbour (a few dozen datagrams). Resolve it first, as 20 000 hosts each would.
    // (Up to five tries: the link may still be coming up; the storm then goes ahead regardless.)
    for (let attempt = 0; attempt < 5; attempt++) {
      const ping = spawnSync('ip', ['netns', 'exec', client.netns, 'ping', '-c', '1', '-W', '1', server.underlay], { stdio: 'ignore', timeout: 3_000 });
      if (ping.status === 0) break;
    }
    for (let first = 1; first <= n; first += SWARM_PROCESS_MAX) {
      const count = Math.min(SWARM_PROCESS_MAX, n - first + 1);
      // SWARM_NODE_ARGS (space-separated) go to each swarm process's node, e.g. --cpu-prof.
      const nodeArgs = (process.env['SWARM_NODE_ARGS'] ?? '').split(' ').filter((a) => a !== '');
      const child = spawn('ip', ['netns', 'exec', client.netns, process.execPath, '--expose-gc', ...nodeArgs, path.join(PACKAGE_ROOT, 'dist', 'bench', 'swarm.js'),
        server.listen, server.msnlAddress, String(count), client.underlay, String(first)], { stdio: ['pipe', 'pipe', 'pipe'] });
      const index = this.children.length;
      this.outputs.push('');
      child.stdout?.setEncoding('utf8').on('data', (c: string) => (this.outputs[index] += c));
      child.stderr?.setEncoding('utf8').on('data', (c: string) => (this.outputs[index] += c));
      this.children.push(child);
    }
  }

  /** Everything the processes said so far. */
  get output(): string {
    return this.outputs.join('');
  }

  /** Waits until every process printed a line matching `re`; throws with the processes' words when one fails or time runs out. */
  private async each(what: string, re: RegExp, ms: number): Promise<RegExpExecArray[]> {
    const deadline = Date.now() + ms;
    for (;;) {
      const matches = this.outputs.map((o) => re.exec(o));
      if (matches.every((m) => m !== null)) return matches as RegExpExecArray[];
      for (let i = 0; i < this.children.length; i++) {
        const out = this.outputs[i] ?? '';
        const error = /^Error: .*$/m.exec(out);
        if (error !== null) throw new Error(`swarm process ${i + 1}: ${error[0]}`);
        const child = this.children[i]!;
        if (matches[i] === null && (child.exitCode !== null || child.signalCode !== null)) {
          throw new Error(`swarm process ${i + 1} ended (exit ${child.exitCode ?? child.signalCode}) before its ${what}: ${out.trim().slice(-300) || 'no output'}`);
        }
      }
      if (Date.now() > deadline) throw new Error(`swarm: no ${what} within ${ms} ms: ${this.output.trim().slice(-300) || 'no output'}`);
      await sleep(10);
    }
  }

  /** The processes' ids (node's own: `ip netns exec` execs it), for their CPU. */
  get pids(): number[] {
    return this.children.map((c) => c.pid ?? 0).filter((pid) => pid > 0);
  }

  /** Waits until every process has bound its sockets. */
  async bound(ms: number): Promise<void> {
    await this.each('bound line', /^bound \d+/m, ms);
  }

  /** Starts every process's calls at once (after bound()); once. */
  call(): void {
    if (this.calling) return;
    this.calling = true;
    for (const child of this.children) child.stdin?.write('call\n');
  }

  /** Waits for every process's call report (binding first and starting the calls, unless call() did). */
  async up(ms: number): Promise<SwarmUp> {
    if (!this.calling) {
      await this.bound(ms);
      this.call();
    }
    const reports = await this.each('call report', /connected (\d+) failed (\d+) in ([\d.]+) s \((\d+) requests sent again, (\d+) calls made again/, ms);
    await sleep(20); // a failures line follows its report at once
    const failures = this.outputs.map((o) => /^failures (.*)$/m.exec(o)?.[1] ?? '').filter((f) => f !== '').join(' ');
    return {
      connected: reports.reduce((sum, m) => sum + Number(m[1]), 0),
      failed: reports.reduce((sum, m) => sum + Number(m[2]), 0),
      seconds: Math.max(...reports.map((m) => Number(m[3]))),
      failures,
      resent: reports.reduce((sum, m) => sum + Number(m[4]), 0),
      redialled: reports.reduce((sum, m) => sum + Number(m[5]), 0),
    };
  }

  /** Every caller releases its connection at once; resolves with how many were released. */
  async hangup(ms: number): Promise<number> {
    for (const child of this.children) child.stdin?.write('hangup\n');
    const reports = await this.each('hang-up report', /hung up (\d+)/, ms);
    return reports.reduce((sum, m) => sum + Number(m[1]), 0);
  }

  /** Ends every process (stdin closed, then SIGTERM for any still running). */
  stop(): void {
    for (const child of this.children) {
      child.stdin?.end();
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
    }
  }
}
