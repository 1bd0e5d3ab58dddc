// How long one `msnl` command takes from exec to exit (issue 15: `msnl status` under 100 ms), next
// to `node -e 0`, the floor every Node.js command pays. Each command runs `--runs` times (10) in
// turn with the others, so a load change hits all alike; the medians are printed in ms: the wall
// time, and the CPU time (user + system, from bash's `times`), which a loaded machine stretches far
// less than the wall time.
//
//   node dist/bench/cli-startup.js [--runs N] [-n NETNS] [--compare OTHER/main.js]
//
// With -n NETNS the live commands (status, conn show, health) ask that namespace's msnld (start
// one first: `msnld -n NETNS`); without it they are left out. --compare times another build's
// dist/src/cli/main.js (a copy of an older dist/ inside the clone, so it finds node_modules) in
// the same rounds, each row then also as `before`, with the ratio after/before.
import { spawnSync } from 'node:child_process';
import { loadavg } from 'node:os';
import path from 'node:path';

const MAIN = path.join(__dirname, '..', 'src', 'cli', 'main.js');

function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

/** bash's `times` line for its children: `0m0.123s 0m0.045s` -> ms. */
function childCpuMs(text: string): number {
  const lines = text.trim().split('\n');
  const m = /^(\d+)m([\d.]+)s (\d+)m([\d.]+)s$/.exec(lines[lines.length - 1] ?? '');
  if (m === null) throw new Error(`bash times printed ${JSON.stringify(text)}`);
  return (Number(m[1]) * 60 + Number(m[2]) + Number(m[3]) * 60 + Number(m[4])) * 1000;
}

/** One run: [wall ms (including bash's own start), CPU ms of the node process]. */
function timeOnce(args: readonly string[]): [number, number] {
  const script = '"$@" >/dev/null 2>/tmp/msnl-cli-startup.err; s=$?; times; exit $s';
  const t0 = process.hrtime.bigint();
  const run = spawnSync('bash', ['-c', script, 'bash', process.execPath, ...args], { stdio: ['ignore', 'pipe', 'inherit'], encoding: 'utf8' });
  const ms = Number(process.hrtime.bigint() - t0) / 1e6;
  if (run.status !== 0) throw new Error(`${args.join(' ')} exited ${run.status} (its stderr is in /tmp/msnl-cli-startup.err)`);
  return [ms, childCpuMs(run.stdout)];
}

function main(argv: readonly string[]): void {
  let runs = 10;
  let netns: string | undefined;
  let other: string | undefined;
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === '--runs') runs = Number(argv[++i]);
    else if (argv[i] === '-n') netns = argv[++i];
    else if (argv[i] === '--compare') other = argv[++i];
    else throw new Error(`argument "${argv[i]}" is wrong: expected --runs N, -n NETNS or --compare MAIN`);
  }
  if (!Number.isInteger(runs) || runs < 1 || runs > 1000) throw new Error(`argument "--runs" is wrong: expected 1..1000`);
  const commands: Array<[string, string[]]> = [['node -e 0', ['-e', '0']]];
  const lines: string[][] = [['--version'], ['--help']];
  if (netns !== undefined) for (const live of [['status'], ['conn', 'show'], ['health']]) lines.push(['-n', netns, ...live]);
  for (const line of lines) {
    const name = `msnl ${line.filter((word) => word !== '-n' && word !== netns).join(' ')}`;
    commands.push([name, [MAIN, ...line]]);
    if (other !== undefined) commands.push([`${name} before`, [path.resolve(other), ...line]]);
  }
  const samples = commands.map(() => [] as number[]);
  const cpu = commands.map(() => [] as number[]);
  for (const [, args] of commands) timeOnce(args); // warm the page cache
  const before = loadavg()[0]!;
  for (let r = 0; r < runs; r++) {
    commands.forEach(([, args], i) => {
      const [wall, used] = timeOnce(args);
      samples[i]!.push(wall);
      cpu[i]!.push(used);
    });
  }
  const after = loadavg()[0]!;
  for (const [i, [name]] of commands.entries()) {
    const s = samples[i]!;
    const c = cpu[i]!;
    const ratio = other !== undefined && name.endsWith(' before') ? `  after/before wall ${(median(samples[i - 1]!) / median(s)).toFixed(2)} cpu ${(median(cpu[i - 1]!) / median(c)).toFixed(2)}` : '';
    console.log(`${name.padEnd(24)} wall ${median(s).toFixed(0).padStart(4)} ms (min ${Math.min(...s).toFixed(0)})  cpu ${median(c).toFixed(0).padStart(4)} ms (min ${Math.min(...c).toFixed(0)})${ratio}`);
  }
  console.log(`medians of ${runs} runs; load average (1 min) ${before.toFixed(2)} before, ${after.toFixed(2)} after; node ${process.version}`);
}

try {
  main(process.argv.slice(2));
} catch (error) {
  console.error(`Error: ${(error as Error).message}`);
  process.exit(1);
}
