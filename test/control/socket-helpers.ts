// Temp socket paths, a control server with a fake handler, and a raw exchange over a unix socket,
// for the server and CLI suites.
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import { ControlServer } from '../../src/control/server.js';
import { FakeHandler } from './fake-handler.js';

/** A fresh directory; the caller removes it. */
export function tempDir(): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), 'msnl-ctl-'));
}

/**
 * Runs `body` against a ControlServer answering with a FakeHandler on `socketName` (a relative
 * path) in a fresh directory, then closes the server and removes the directory.
 */
export async function withFakeServer(body: (socketPath: string, handler: FakeHandler, server: ControlServer) => Promise<void>, options: ConstructorParameters<typeof ControlServer>[2] = {}, socketName = 'msnld.sock'): Promise<void> {
  const dir = tempDir();
  const socketPath = path.join(dir, socketName);
  const handler = new FakeHandler();
  const server = new ControlServer(handler, socketPath, options);
  try {
    await server.listen();
    await body(socketPath, handler, server);
  } finally {
    await server.close();
    fs.rmSync(dir, { recursive: true, force: true });
  }
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
