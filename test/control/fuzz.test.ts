// Random and mutated requests into the request parser (10 000 in-memory) and into a live server
// (a few hundred, pipelined on one connection): nothing throws, every request gets an errno reply.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { ControlClient } from '../../src/control/client.js';
import { RequestAssembler } from '../../src/control/framing.js';
import { ControlServer } from '../../src/control/server.js';
import { FakeHandler, SAMPLE_STATUS } from './fake-handler.js';
import { rawExchange, tempDir } from './socket-helpers.js';

const SEEDS = [
  'get=status\n', 'get=interfaces\n', 'get=connections\n', 'get=health\nprotocol_version=1\n', 'reload=1\n', 'disconnect=7\n',
  'ping=128.232.65.43\ncount=3\ninterval_ms=10\n',
];
const ALPHABET = 'abcdefghijklmnopqrstuvwxyz_=0123456789.-\n\r\t \u00e9\u0000\u00ff';

function makeRandom(seed: number): (n: number) => number {
  let state = seed >>> 0;
  return (n) => {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    return state % n;
  };
}

/** A mutated seed without blank lines (so it is exactly one request), at most 400 bytes. */
function mutant(rand: (n: number) => number): string {
  let text = SEEDS[rand(SEEDS.length)]!;
  const edits = rand(4); // a quarter stay valid, to reach the request paths too
  for (let i = 0; i < edits; i++) {
    const at = rand(text.length + 1);
    const op = rand(4);
    const ch = ALPHABET[rand(ALPHABET.length)]!;
    if (op === 0) text = text.slice(0, at) + ch + text.slice(at);
    else if (op === 1) text = text.slice(0, at) + text.slice(at + 1);
    else if (op === 2) text = text.slice(0, at) + ch + text.slice(at + 1);
    else text = text.slice(0, at) + text.slice(at, at + rand(20)) + text.slice(at);
  }
  text = text.replace(/\n+/g, '\n').replace(/^\n/, '').slice(0, 400);
  if (text === '') return '=\n';
  if (text === '') return '=\n';
  return text.endsWith('\n') ? text : `${text}\n`;
}

test('10 000 mutated requests: the parser never throws and answers each one', () => {
  const rand = makeRandom(0xc0ffee);
  let requests = 0;
  let errors = 0;
  for (let i = 0; i < 10_000; i++) {
    const assembler = new RequestAssembler();
    const body = i % 10 === 0 ? Buffer.from(Array.from({ length: 1 + rand(300) }, () => rand(256)).filter((b) => b !== 10)) : Buffer.from(mutant(rand));
    const bytes = Buffer.concat([body, Buffer.from(body.at(-1) === 10 ? '\n' : '\n\n')]);
    const events = [];
    for (let at = 0; at < bytes.length; ) {
      const step = 1 + rand(64);
      events.push(...assembler.push(bytes.subarray(at, at + step)));
      at += step;
    }
    assert.equal(events.length, 1, JSON.stringify(bytes.toString()));
    const event = events[0]!;
    if (event.type === 'request') requests++;
    else {
      errors++;
      assert.ok(event.error.errno < 0 && event.error.message.length > 0);
    }
  }
  assert.ok(requests > 100 && errors > 1000, `requests ${requests} errors ${errors}`);
});

test('a live server answers 500 pipelined mutants in order and keeps serving', async () => {
  const dir = tempDir();
  const socketPath = path.join(dir, 'msnld.sock');
  const server = new ControlServer(new FakeHandler(), socketPath);
  try {
    await server.listen();
    const rand = makeRandom(42);
    const batch = Array.from({ length: 500 }, () => mutant(rand).replace(/^ping=.*\n/m, 'get=status\n'));
    const text = await rawExchange(socketPath, batch.map((r) => `${r}\n`).join(''), batch.length, 60_000);
    const ends = text.match(/^errno=-?[0-9]+\n\n/gm) ?? [];
    assert.equal(ends.length, batch.length);
    assert.equal((text.match(/^protocol_version=1$/gm) ?? []).length, batch.length);
    assert.ok(ends.some((e) => e !== 'errno=0\n\n') && ends.some((e) => e === 'errno=0\n\n'));
    assert.deepEqual(await new ControlClient(socketPath).status(), SAMPLE_STATUS);
  } finally {
    await server.close();
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
