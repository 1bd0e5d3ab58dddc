// The conformance peer: a second view of the MSNL wire, written from man/msnl.7 alone. It runs
// inside a network namespace of its own (test/conformance/conformance.test.ts makes it), starts a
// real msnld there on loopback as host B of the page's EXAMPLES, plays host A over a plain UDP
// socket, and prints one JSON line per check: { name, ok, detail }. B's route to A names two
// exits, A's two loopback addresses, so msnld exit-probes both (msnl.7 Exits): the peer answers
// them on each address as the page says, and probes msnld's connection from its second address.
//
// It must not import src/msnl: every frame is the page's own hex (read from man/msnl.7 at run
// time) or built here from the page's tables, so an encoder bug and a page bug cannot hide each
// other.

import { execFile, spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { createSocket, type Socket } from 'node:dgram';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { MSNL, MSNLD, PACKAGE_ROOT } from '../../src/demo/topology.js';

const PEER_PORT = 7020;
const MSNLD_PORT = 7010;
const LOOPBACK = '127.0.0.1';
/** A's second exit in B's route, and an address that is no exit of it (both on lo). */
const SECOND_EXIT = '127.0.0.2';
const NO_EXIT = '127.0.0.3';
/** A's connection id in the page's exchange. */
const A_ID = 0x11111111;

interface Check {
  readonly name: string;
  readonly ok: boolean;
  readonly detail: string;
}

/** The datagrams of the page's EXAMPLES, in order: who sends, and the octets. */
function pageExamples(): Array<{ from: string; to: string; bytes: Buffer }> {
  const page = readFileSync(path.join(PACKAGE_ROOT, 'man', 'msnl.7'), 'utf8');
  const examples = page.slice(page.indexOf('.Sh EXAMPLES'), page.indexOf('.Sh SEE ALSO'));
  const out: Array<{ from: string; to: string; bytes: Buffer }> = [];
  for (const line of examples.split('\n')) {
    const m = /^([A-Z?])>([A-Z?]) ((?:[0-9a-f]+ ?)+)/.exec(line);
    if (m === null) continue;
    out.push({ from: m[1]!, to: m[2]!, bytes: Buffer.from(m[3]!.replace(/ /g, ''), 'hex') });
  }
  return out;
}

function hex(b: Uint8Array): string {
  return Buffer.from(b).toString('hex');
}

function withU32(bytes: Buffer, offset: number, value: number): Buffer {
  const copy = Buffer.from(bytes);
  copy.writeUInt32BE(value >>> 0, offset);
  return copy;
}

function ipv4(text: string): number {
  return text.split('.').reduce((acc, part) => acc * 256 + Number(part), 0);
}

function checksum(b: Buffer, start: number, end: number): number {
  let sum = 0;
  for (let i = start; i < end; i += 2) sum += (b[i]! << 8) | (i + 1 < end ? b[i + 1]! : 0);
  while (sum > 0xffff) sum = (sum & 0xffff) + (sum >>> 16);
  return ~sum & 0xffff;
}

/** An ICMP echo request of `total` octets from src to dst (IPv4 header of 20 octets). */
function icmpEcho(src: string, dst: string, total: number, id: number): Buffer {
  const p = Buffer.alloc(total);
  p[0] = 0x45;
  p.writeUInt16BE(total, 2);
  p.writeUInt16BE(id, 4);
  p[8] = 64;
  p[9] = 1;
  p.writeUInt32BE(ipv4(src), 12);
  p.writeUInt32BE(ipv4(dst), 16);
  p.writeUInt16BE(checksum(p, 0, 20), 10);
  p[20] = 8;
  p.writeUInt16BE(id, 24);
  p.writeUInt16BE(1, 26);
  for (let i = 28; i < total; i++) p[i] = i & 0xff;
  p.writeUInt16BE(checksum(p, 20, total), 22);
  return p;
}

/** Whether `b` is an exit probe (type 8, code 2) as the page's Exits table gives it: exactly 16 octets. */
function isExitProbe(b: Buffer): boolean {
  return b.length === 16 && b[0] === 1 && b[1] === 8 && b.readUInt16BE(2) === 2;
}

/** The reply to an exit probe: type 9, code 2, the prober's id, sequence number and stamp copied. */
function exitProbeReply(probe: Buffer, proberId: number): Buffer {
  const reply = Buffer.from(probe);
  reply[1] = 9;
  reply.writeUInt32BE(proberId >>> 0, 4);
  return reply;
}

class Wire {
  private readonly inbox: Buffer[] = [];
  private waiter: (() => void) | undefined;
  /** B's id once the call is confirmed: from then on exit probes naming A's id are answered. */
  answerAs: number | undefined;
  /** The exit probes msnld sent to this address (answered or not). */
  readonly exitProbes: Buffer[] = [];

  constructor(private readonly socket: Socket) {
    socket.on('message', (msg, from) => {
      if (isExitProbe(msg)) {
        // msnl.7 Exits: answered to the address it came from, not counted as a health probe.
        this.exitProbes.push(msg);
        if (this.answerAs !== undefined && msg.readUInt32BE(4) === A_ID) socket.send(exitProbeReply(msg, this.answerAs), from.port, from.address);
        return;
      }
      this.inbox.push(msg);
      this.waiter?.();
    });
  }

  send(bytes: Uint8Array): Promise<void> {
    return new Promise((resolve, reject) => this.socket.send(bytes, MSNLD_PORT, LOOPBACK, (error) => (error ? reject(error) : resolve())));
  }

  /** The next datagram that `wanted` accepts, within `ms`; others are kept out of the way. */
  async next(wanted: (b: Buffer) => boolean, ms: number): Promise<Buffer | undefined> {
    const deadline = Date.now() + ms;
    for (;;) {
      const i = this.inbox.findIndex(wanted);
      if (i >= 0) return this.inbox.splice(i, 1)[0];
      const left = deadline - Date.now();
      if (left <= 0) return undefined;
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left);
        this.waiter = () => {
          clearTimeout(timer);
          resolve();
        };
      });
      this.waiter = undefined;
    }
  }

  /** Drops what has arrived so far. */
  clear(): void {
    this.inbox.length = 0;
  }
}

function msnl(dir: string, args: string[]): void {
  const r = spawnSync(process.execPath, [MSNL, '--db', path.join(dir, 'b.db'), '--socket', path.join(dir, 'b.sock'), ...args], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`msnl ${args.join(' ')}: ${r.stderr}`);
}

/**
 * Asks the running msnld (exit 0 or 3 accepted) without blocking: this peer answers exit probes
 * meanwhile, and a second without answers would move msnld's connection to the other exit.
 */
function ask(dir: string, args: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(process.execPath, [MSNL, '--db', path.join(dir, 'b.db'), '--socket', path.join(dir, 'b.sock'), ...args], { encoding: 'utf8', timeout: 20_000 }, (error, stdout, stderr) => {
      if (error !== null && error.code !== 3) reject(new Error(`msnl ${args.join(' ')}: ${stderr || error.message}`));
      else resolve(stdout);
    });
  });
}

/** The exit states msnld shows for its connection to A (`msnl -j health`), in the route's order. */
async function exitStates(dir: string): Promise<string[]> {
  const rows = JSON.parse(await ask(dir, ['-j', 'health'])) as Array<{ peer_ip: string; exits: Array<{ state: string }> | null }>;
  return (rows.find((r) => r.peer_ip === '10.0.0.1')?.exits ?? []).map((e) => e.state);
}

async function bound(address: string): Promise<Socket> {
  const socket = createSocket('udp4');
  await new Promise<void>((resolve) => socket.bind(PEER_PORT, address, resolve));
  return socket;
}

async function main(): Promise<void> {
  const checks: Check[] = [];
  const check = (name: string, ok: boolean, detail = ''): void => {
    checks.push({ name, ok, detail });
  };
  const dir = mkdtempSync(path.join(tmpdir(), 'msnl-conformance-'));
  let daemon: ChildProcess | undefined;
  const socket = createSocket('udp4');
  const sockets: Socket[] = [socket];
  try {
    spawnSync('ip', ['link', 'set', 'lo', 'up']);
    // Host B of the page: 128.232.0.2, ms0 10.0.0.2; A (this peer) is 128.232.0.1, 10.0.0.1.
    msnl(dir, ['host', 'set', 'address', '128.232.0.2']);
    // The page's plain framing; A's second address is a standby exit (msnl.7 Exits).
    msnl(dir, ['route', 'add', '128.232.0.1', 'via', `${LOOPBACK}:${PEER_PORT}`, 'via', `${SECOND_EXIT}:${PEER_PORT}`, 'priority', '10', 'auth', 'none']);
    msnl(dir, ['map', 'add', '10.0.0.1/32', '128.232.0.1']);
    msnl(dir, ['ifconfig', 'ms0', '10.0.0.2/24', 'up']);
    daemon = spawn(process.execPath, [MSNLD, '--foreground', '--db', path.join(dir, 'b.db'), '--socket', path.join(dir, 'b.sock'), '--listen', `${LOOPBACK}:${MSNLD_PORT}`], { stdio: ['ignore', 'ignore', 'pipe'] });
    let log = '';
    daemon.stderr?.on('data', (chunk: Buffer) => (log += chunk.toString()));
    for (let i = 0; i < 100 && !/ms0: bound/.test(log); i++) await new Promise((r) => setTimeout(r, 100));
    if (!/ms0: bound/.test(log)) throw new Error(`msnld did not bind ms0: ${log}`);
    await new Promise<void>((resolve) => socket.bind(PEER_PORT, LOOPBACK, resolve));
    const wire = new Wire(socket);
    const second = await bound(SECOND_EXIT);
    const elsewhere = await bound(NO_EXIT);
    sockets.push(second, elsewhere);
    const wire2 = new Wire(second);
    const wire3 = new Wire(elsewhere);
    const ex = pageExamples();
    const line = (i: number): Buffer => {
      const e = ex[i];
      if (e === undefined) throw new Error(`man/msnl.7 EXAMPLES has no datagram ${i}`);
      return e.bytes;
    };
    check('the page gives the twenty-one datagrams of its worked exchange', ex.length === 21, `found ${ex.length}`);
    const type = (t: number) => (b: Buffer) => b.length >= 4 && b[1] === t;
    const NOT_PROBES = (b: Buffer) => b.length >= 4 && b[1] !== 8 && b[1] !== 9;

    // --- the call ---
    const request = line(0);
    const confirmPage = line(1);
    await wire.send(request);
    const confirm = await wire.next(type(1), 2000);
    const bId = confirm?.readUInt32BE(32) ?? 0;
    for (const w of [wire, wire2]) w.answerAs = bId;
    check('a request is confirmed: 36 octets, fields as the page shows, a non-zero RespConnId',
      confirm !== undefined && confirm.length === 36 && bId !== 0 && hex(confirm.subarray(0, 32)) === hex(confirmPage.subarray(0, 32)),
      confirm === undefined ? 'no confirm' : `got ${hex(confirm)}, page ${hex(confirmPage)}`);
    await wire.send(request);
    const again = await wire.next(type(1), 2000);
    check('a retransmitted request gets the same confirm', again !== undefined && confirm !== undefined && hex(again) === hex(confirm), again === undefined ? 'no answer' : hex(again));

    // --- probes ---
    const firstProbe = await wire.next((b) => type(8)(b) && b.readUInt16BE(2) === 0, 5500);
    check('the callee probes the new connection, naming the caller\'s id, within 5 s', firstProbe !== undefined && firstProbe.length === 16 && firstProbe.readUInt32BE(4) === 0x11111111,
      firstProbe === undefined ? 'no probe' : hex(firstProbe));
    await wire.send(withU32(line(2), 4, bId));
    const reply = await wire.next((b) => type(9)(b) && b.readUInt32BE(8) === 0, 2000);
    check('a probe is answered with the page\'s reply', reply !== undefined && hex(reply) === hex(line(3)), reply === undefined ? 'no reply' : hex(reply));

    // --- acknowledging probes (code 3, 24 octets), answered with 16-octet code-3 replies ---
    for (const [probe, answer, what] of [[line(15), null, 'nothing acknowledged'], [line(16), line(17), 'acknowledging probe 4']] as const) {
      await wire.send(withU32(probe, 4, bId));
      const seq = probe.readUInt32BE(8);
      const got = await wire.next((b) => type(9)(b) && b.readUInt16BE(2) === 3 && b.readUInt32BE(8) === seq, 2000);
      const want = answer ?? Buffer.from([...withU32(probe, 4, A_ID).subarray(0, 16)].map((x, i) => (i === 1 ? 9 : x)));
      check(`an acknowledging probe (${what}) is answered with a 16-octet code-3 reply, as the page shows`, got !== undefined && hex(got) === hex(want), got === undefined ? 'no reply' : `got ${hex(got)}, page ${hex(want)}`);
    }

    // --- an asking probe (code 4, laid out as code 3), answered with a 20-octet code-4 reply that
    // asks for msnld's own interval: 2 s with this one connection (msnl.7 Probes) ---
    {
      const probe = line(18);
      await wire.send(withU32(probe, 4, bId));
      const got = await wire.next((b) => type(9)(b) && b.readUInt16BE(2) === 4 && b.readUInt32BE(8) === probe.readUInt32BE(8), 2000);
      const page = line(19);
      check('an asking probe is answered with a 20-octet code-4 reply, as the page shows, asking for msnld\'s own 2 s',
        got !== undefined && got.length === 20 && page.length === 20 && hex(got.subarray(0, 16)) === hex(page.subarray(0, 16)) && got.readUInt32BE(16) === 2000,
        got === undefined ? 'no reply' : `got ${hex(got)}, page ${hex(page)}`);
    }

    // --- a size probe (Path MTU): padded to 1232 octets, answered unpadded ---
    await wire.send(Buffer.concat([withU32(line(4), 4, bId), Buffer.alloc(1216)]));
    const sizeReply = await wire.next((b) => type(9)(b) && b.readUInt16BE(2) === 1 && b.readUInt32BE(8) === 1, 2000);
    check('a 1232-octet size probe is answered with the page\'s 16-octet reply', sizeReply !== undefined && hex(sizeReply) === hex(line(5)), sizeReply === undefined ? 'no reply' : hex(sizeReply));

    // --- exit probes (msnl.7 Exits): B's route names both of A's addresses ---
    const pageProbe = line(6);
    const pageReply = line(7);
    check('the page\'s exit probe and reply are 16 octets with code 2, and the reply is the one this peer makes of the probe',
      isExitProbe(pageProbe) && hex(exitProbeReply(pageProbe, 0x22222222)) === hex(pageReply), `probe ${hex(pageProbe)}, reply ${hex(pageReply)}`);
    for (let i = 0; i < 30 && (wire.exitProbes.length === 0 || wire2.exitProbes.length === 0); i++) await new Promise((r) => setTimeout(r, 100));
    const sent = [...wire.exitProbes, ...wire2.exitProbes];
    check('msnld exit-probes each exit of a route with several, at its address, naming A\'s id, within 3 s',
      wire.exitProbes.length > 0 && wire2.exitProbes.length > 0 && sent.every((b) => b.readUInt32BE(4) === A_ID),
      `${wire.exitProbes.length} at ${LOOPBACK}, ${wire2.exitProbes.length} at ${SECOND_EXIT}: ${sent.slice(0, 4).map(hex).join(' ')}`);
    check('msnld keeps the exit\'s index in the low 3 bits of an exit probe\'s sequence number (0 and 1 here)',
      sent.length > 0 && wire.exitProbes.every((b) => (b.readUInt32BE(8) & 7) === 0) && wire2.exitProbes.every((b) => (b.readUInt32BE(8) & 7) === 1),
      sent.map((b) => b.readUInt32BE(8)).join(','));
    let states: string[] = [];
    for (let i = 0; i < 50; i++) {
      states = await exitStates(dir);
      if (states.join(',') === 'active,standby') break;
      await new Promise((r) => setTimeout(r, 100));
    }
    const counters = (JSON.parse(await ask(dir, ['-j', 'status'])) as { counters: Record<string, number> }).counters;
    check('msnld takes this peer\'s replies to its exit probes: its first exit active, the second standby (answering)',
      states.join(',') === 'active,standby' && (counters['exit_probes_answered'] ?? 0) >= 2, `exits ${states.join(',') || '(none)'}, exit_probes_answered ${counters['exit_probes_answered']}`);
    const mine = withU32(pageProbe, 4, bId);
    await wire2.send(mine);
    const exitReply = await wire2.next(type(9), 2000);
    check('an exit probe from A\'s second exit is answered there (not where the connection sends), with the page\'s reply',
      exitReply !== undefined && hex(exitReply) === hex(withU32(pageReply, 4, A_ID)), exitReply === undefined ? 'no reply' : hex(exitReply));
    await wire3.send(mine);
    const stray = await wire3.next(() => true, 600);
    check('an exit probe from an address that is no exit of B\'s route is not answered on a plain connection', stray === undefined, stray === undefined ? '' : `answered with ${hex(stray)}`);
    const badProbes: Array<[string, Buffer]> = [
      ['a 20-octet exit probe', Buffer.concat([mine, Buffer.alloc(4)])],
      ['a 16-octet probe with code 3', withU32(mine, 0, 0x01080003)],
      ['a 16-octet probe with code 4', withU32(mine, 0, 0x01080004)],
      ['a 20-octet probe with code 4', Buffer.concat([withU32(mine, 0, 0x01080004), Buffer.alloc(4)])],
      ['a 24-octet probe with code 5', Buffer.concat([withU32(mine, 0, 0x01080005), Buffer.alloc(8)])],
      ['an exit probe reply for a sequence number never sent', withU32(withU32(pageReply, 4, bId), 8, 0x7ffffff8)],
    ];
    for (const [, bytes] of badProbes) await wire2.send(bytes);
    const badAnswer = await wire2.next((b) => b.length >= 2 && (b[1] === 9 || b[1] === 5), 600); // a reply or a reset
    check('a padded exit probe, a 16-octet probe with code 3, probes of code 4 of 16 or 20 octets, one with code 5 and a stray exit probe reply are never answered', badAnswer === undefined,
      badAnswer === undefined ? badProbes.map(([n]) => n).join(', ') : `answered with ${hex(badAnswer)}`);

    // --- a two-segment packet, sent last segment first ---
    const packet = icmpEcho('10.0.0.1', '10.0.0.2', 1500, 0x4d53);
    const seg1 = Buffer.concat([withU32(line(8), 4, bId), packet.subarray(0, 1456)]);
    const seg2 = Buffer.concat([withU32(line(9), 4, bId), packet.subarray(1456)]);
    wire.clear();
    await wire.send(seg2);
    await wire.send(seg1);
    const segments: Buffer[] = [];
    let echoReply: Buffer | undefined;
    for (let i = 0; i < 8 && echoReply === undefined; i++) {
      const d = await wire.next(type(10), 3000);
      if (d === undefined) break;
      segments.push(d);
      const total = d.readUInt16BE(12);
      const got = segments.filter((s) => s.readUInt32BE(8) === d.readUInt32BE(8));
      if (got.reduce((n, s) => n + s.length - 16, 0) === total) {
        const whole = Buffer.alloc(total);
        for (const s of got) s.copy(whole, s.readUInt16BE(14), 16);
        echoReply = whole;
      }
    }
    check('segments in any order are reassembled into one IPv4 packet and the answer comes back as data to the caller\'s id',
      echoReply !== undefined && echoReply.length === 1500 && echoReply[9] === 1 && echoReply[20] === 0 && echoReply.readUInt32BE(16) === ipv4('10.0.0.1') && segments.every((s) => s.readUInt32BE(4) === 0x11111111),
      echoReply === undefined ? `${segments.length} data frames, no whole reply` : `reply of ${echoReply.length} octets, ICMP type ${echoReply[20]}`);

    // --- echo ---
    await wire.send(line(10));
    const echo = await wire.next(type(7), 2000);
    check('an echo request for B\'s address gets the page\'s reply', echo !== undefined && hex(echo) === hex(line(11)), echo === undefined ? 'no reply' : hex(echo));

    // --- unknown connection, and what is never answered ---
    await wire.send(line(12));
    const reset = await wire.next(type(5), 2000);
    check('a probe for an unknown id gets the page\'s 8-octet reset', reset !== undefined && hex(reset) === hex(line(13)), reset === undefined ? 'no reset' : hex(reset));
    wire.clear();
    const malformed: Array<[string, Buffer]> = [
      ['7 octets', Buffer.from('01080000333333', 'hex')],
      ['version 2', withU32(Buffer.from(line(12)), 0, 0x02080000)],
      ['type 11', withU32(Buffer.from(line(12)), 0, 0x010b0000)],
      ['a 35-octet request', request.subarray(0, 35)],
      ['a 20-octet probe', Buffer.concat([line(12), Buffer.alloc(4)])],
      ['a 20-octet size probe reply', Buffer.concat([line(5), Buffer.alloc(4)])],
      ['data past its total', Buffer.concat([Buffer.from('010a000033333333000000000010000c', 'hex'), Buffer.alloc(8)])],
      ['a reset', line(13)],
    ];
    for (const [, bytes] of malformed) await wire.send(bytes);
    const answered = await wire.next(NOT_PROBES, 600);
    check('malformed datagrams and resets are never answered', answered === undefined, answered === undefined ? malformed.map(([n]) => n).join(', ') : `answered with ${hex(answered)}`);

    // --- refusals ---
    const refusal = async (name: string, txn: number, patch: (b: Buffer) => Buffer, reason: number): Promise<void> => {
      await wire.send(patch(withU32(request, 4, txn)));
      const d = await wire.next((b) => type(2)(b) && b.readUInt32BE(4) === txn, 2000);
      check(name, d !== undefined && d.readUInt16BE(2) === reason && d.readUInt32BE(32) === 0, d === undefined ? 'no answer' : hex(d));
    };
    await refusal('a request for a port nobody listens on is refused with reason 1', 0x0badc001, (b) => withU32(b, 20, 0x0900), 1);
    await refusal('a request for another MSNL address is refused with reason 3', 0x0badc002, (b) => withU32(b, 16, ipv4('128.232.0.99')), 3);
    await refusal('a request whose ms_ipa does not map to the caller is refused with reason 2', 0x0badc003, (b) => withU32(b, 24, ipv4('10.0.0.77')), 2);

    // --- release ---
    await wire.send(withU32(line(14), 32, bId));
    await new Promise((r) => setTimeout(r, 200));
    wire.clear();
    await wire.send(withU32(line(2), 4, bId));
    const gone = await wire.next(type(5), 2000);
    check('after A\'s release B no longer knows its id: a probe to it gets a reset naming it', gone !== undefined && gone.readUInt32BE(4) === bId, gone === undefined ? 'no reset' : hex(gone));
  } catch (error) {
    check('the conformance run completed', false, error instanceof Error ? error.message : String(error));
  } finally {
    for (const s of sockets) s.close();
    if (daemon?.pid !== undefined) daemon.kill('SIGTERM');
    await new Promise((r) => setTimeout(r, 300));
    if (daemon?.exitCode === null) daemon.kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  }
  process.stdout.write(`${JSON.stringify(checks)}\n`);
}

void main();
