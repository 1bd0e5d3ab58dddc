// Shared by the fleet suites: a real etcd (Debian etcd-server) run inside a test namespace, and
// etcd v3 JSON calls made from inside a namespace (the test process is outside them all).
import { spawn, type ChildProcess } from 'node:child_process';
import { openSync, closeSync } from 'node:fs';
import path from 'node:path';
import { sleep, type Host, type Topology } from '../../src/demo/topology.js';

export const ETCD_PORT = 2379;

export function startEtcd(t: Topology, h: Host): ChildProcess {
  const log = openSync(path.join(t.dir, 'etcd.log'), 'a');
  const url = `http://${h.underlay}:${ETCD_PORT}`;
  const child = spawn('ip', ['netns', 'exec', h.netns, 'etcd', '--name', 'msnl-test', '--data-dir', path.join(t.dir, 'etcd'),
    '--listen-client-urls', url, '--advertise-client-urls', url,
    '--listen-peer-urls', 'http://127.0.0.1:2380', '--initial-advertise-peer-urls', 'http://127.0.0.1:2380',
    '--initial-cluster', 'msnl-test=http://127.0.0.1:2380'], { stdio: ['ignore', log, log] });
  closeSync(log);
  return child;
}

/** One etcd v3 JSON call, run from inside host h's namespace; the parsed answer or undefined. */
export function etcd(t: Topology, h: Host, url: string, call: string, body: unknown, token?: string): Record<string, unknown> | undefined {
  const headers = token === undefined ? {} : { authorization: token };
  const script = `fetch(${JSON.stringify(`${url}${call}`)},{method:'POST',headers:${JSON.stringify(headers)},body:${JSON.stringify(JSON.stringify(body))}}).then(r=>r.text()).then(t=>process.stdout.write(t),()=>process.exit(3))`;
  const r = t.exec(h, [process.execPath, '-e', script], 10_000);
  if (r.code !== 0) return undefined;
  try {
    return JSON.parse(r.stdout) as Record<string, unknown>;
  } catch {
    return undefined;
  }
}

export const b64 = (s: string): string => Buffer.from(s).toString('base64');

export async function stopProcess(child: ChildProcess | undefined): Promise<void> {
  if (child === undefined || child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.kill('SIGKILL');
  await Promise.race([exited, sleep(5000)]);
}
