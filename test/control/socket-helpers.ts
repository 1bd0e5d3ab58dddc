// Temp socket paths and a raw exchange over a unix socket, for the server and CLI suites.
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { spawnSync } from 'node:child_process';

/** A fresh directory; the caller removes it. */
export function tempDir(): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), 'msnl-ctl-'));
}

/** Leaves a socket file nobody listens on (a daemon that died without cleaning up). */
export function makeStaleSocket(socketPath: string): void {
  const script = `require('net').createServer().listen(${JSON.stringify(socketPath)}, () => process.exit(0))`;
  const run = spawnSync(process.execPath, ['-e', script], { timeout: 10_000 });
  if (run.status !== 0 || !fs.lstatSync(socketPath).isSocket()) throw new Error('failed to make a stale socket');
}

/** Sends raw bytes, then reads until `replies` replies (blank-line-terminated) or the peer closes. */
export function rawExchange(socketPath: string, data: string | Buffer, replies: number, timeoutMs = 10_000): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(socketPath);
    let text = '';
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error(`no ${replies} replies within ${timeoutMs} ms; got ${JSON.stringify(text.slice(-200))}`));
    }, timeoutMs);
    const done = (): void => {
      clearTimeout(timer);
      socket.destroy();
      resolve(text);
    };
    socket.on('connect', () => socket.write(data));
    socket.on('data', (chunk) => {
      text += chunk.toString('utf8');
      if ((text.match(/^errno=-?[0-9]+\n\n/gm) ?? []).length >= replies) done();
    });
    socket.on('close', done);
    socket.on('error', () => undefined);
  });
}
