// Shared by the fleet suites: a real etcd (Debian etcd-server) run inside a test namespace, and
// etcd v3 JSON calls made from inside a namespace (the test process is outside them all).
import { spawn, type ChildProcess } from 'node:child_process';
import { openSync, closeSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { must, sleep, type Host, type Topology } from '../../src/demo/topology.js';

export const ETCD_PORT = 2379;

/** Starts etcd in h's namespace on h's underlay address; `tls` serves https with client certificates. */
export function startEtcd(t: Topology, h: Host, tls?: TlsFiles): ChildProcess {
  const log = openSync(path.join(t.dir, 'etcd.log'), 'a');
  const url = `${tls === undefined ? 'http' : 'https'}://${h.underlay}:${ETCD_PORT}`;
  const tlsArgs = tls === undefined ? [] : ['--cert-file', tls.serverCert, '--key-file', tls.serverKey, '--client-cert-auth', '--trusted-ca-file', tls.ca];
  const child = spawn('ip', ['netns', 'exec', h.netns, 'etcd', '--name', 'msnl-test', '--data-dir', path.join(t.dir, 'etcd'),
    '--listen-client-urls', url, '--advertise-client-urls', url,
    '--listen-peer-urls', 'http://127.0.0.1:2380', '--initial-advertise-peer-urls', 'http://127.0.0.1:2380',
    '--initial-cluster', 'msnl-test=http://127.0.0.1:2380', ...tlsArgs], { stdio: ['ignore', log, log] });
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

export interface TlsFiles {
  readonly ca: string;
  readonly serverCert: string;
  readonly serverKey: string;
  readonly clientCert: string;
  readonly clientKey: string;
}

/**
 * A throw-away CA, a server certificate for `ip` and a client certificate, made with openssl in
 * `dir`. The server's certificate is for client use too: etcd's JSON gateway calls etcd's own gRPC
 * port with it, and is refused ("incompatible key usage") without clientAuth.
 */
export function makeTls(dir: string, ip: string): TlsFiles {
  const f = (name: string): string => path.join(dir, name);
  const ec = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];
  writeFileSync(f('server.ext'), `subjectAltName=IP:${ip}\nextendedKeyUsage=serverAuth,clientAuth\n`);
  writeFileSync(f('client.ext'), 'extendedKeyUsage=clientAuth\n');
  const steps = [
    ['openssl', 'req', '-x509', ...ec, '-keyout', f('ca.key'), '-out', f('ca.pem'), '-days', '1', '-subj', '/CN=msnl-test-ca'],
    ['openssl', 'req', ...ec, '-keyout', f('server.key'), '-out', f('server.csr'), '-subj', '/CN=etcd'],
    ['openssl', 'x509', '-req', '-in', f('server.csr'), '-CA', f('ca.pem'), '-CAkey', f('ca.key'), '-CAcreateserial', '-out', f('server.pem'), '-days', '1', '-extfile', f('server.ext')],
    ['openssl', 'req', ...ec, '-keyout', f('client.key'), '-out', f('client.csr'), '-subj', '/CN=msnl'],
    ['openssl', 'x509', '-req', '-in', f('client.csr'), '-CA', f('ca.pem'), '-CAkey', f('ca.key'), '-CAcreateserial', '-out', f('client.pem'), '-days', '1', '-extfile', f('client.ext')],
  ];
  for (const argv of steps) must(argv);
  return { ca: f('ca.pem'), serverCert: f('server.pem'), serverKey: f('server.key'), clientCert: f('client.pem'), clientKey: f('client.key') };
}
