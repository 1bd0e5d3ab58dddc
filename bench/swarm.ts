// A crowd of MSNL callers: COUNT user-space MSNL endpoints in one process, callers FIRST..FIRST+COUNT-1,
// each with its own MSNL address (128.233.x.y) and UDP socket (port SWARM_BASE_PORT + i, connected
// to the target, so a send needs no address lookup; the process's sockets are watched and moved
// in batches through one SwarmSockets, bench/swarm-sockets.ts), each opening one connection to a
// real msnld's ms0 tunnelling port claiming the IP 10.9.x.y (which that msnld maps to the caller's
// address, so the calls pass validation). The callers probe and answer probes as msnl(7) asks,
// with acknowledging probes (code 3, then asking ones, code 4) as msnld's own callers do, so
// msnld rests and only answers, and they stretch their interval to what msnld asks (5 s from
// 5000 connections on), but search no path MTU of their own (they are load, not peers under test).
// It binds every socket and builds every endpoint first, warms its code with in-process calls
// (bench/swarm-warm.ts; "bound N in S s (warm-up: ...)"), waits for the line
// `call` on stdin (so several processes start their storms together, after all are bound), then
// makes all the calls at once and prints
// "connected N failed M in S s (...)" once all have settled (S: from the first call to the last
// answer; a call that times out is made again after a backoff, as msnld redials; failures by
// reason follow as "failures REASON/CODE=N ..."), then holds the connections until
// stdin closes or it gets SIGTERM. A socket that cannot be made or bound (the descriptor limit, a
// port in use) ends it with "Error: ..." and exit 2. Lines on stdin: `hangup` releases every
// connection at once (reason normal; prints "hung up N"), `calls` prints "calls N", the calls
// msnld made to the swarm (refused; a redial would be one). One process holds at most
// SWARM_PROCESS_MAX callers (one descriptor each); bench/swarm-runner.ts starts as many as N needs.
// Run (inside a namespace): node dist/bench/swarm.js TARGET_HOST:PORT TARGET_MSNL_ADDR COUNT LOCAL_HOST [FIRST]
import { TUNNEL_INTERFACES } from '../src/abi/interfaces.js';
import { ArgumentError, parseDottedQuad } from '../src/abi/inet.js';
import { MsnlEndpoint } from '../src/msnl/endpoint.js';
import { cryptoRandom } from '../src/base/random.js';
import { SwarmSockets } from './swarm-sockets.js';
import { warmUp, WARM_CALLERS, type CallerPort, type CallerTally, type WarmClock } from './swarm-warm.js';

/** Caller i (1-based, below 65 536): MSNL address 128.233.hi.lo and tunnel IP 10.9.hi.lo. */
export function caller(i: number): { msnl: string; ip: string } {
  const tail = `${(i >> 8) & 255}.${i & 255}`;
  return { msnl: `128.233.${tail}`, ip: `10.9.${tail}` };
}

/** Caller i binds port SWARM_BASE_PORT + i: up to 55 000 callers fit below 65 536. */
export const SWARM_BASE_PORT = 10_000;
/** Callers per swarm process: well under a descriptor limit of 20 000. */
export const SWARM_PROCESS_MAX = 10_000;
/** How long the calls may take to settle, redials included (ms). */
const SETTLE_MS = 60_000;
/** The swarm's timer turn (ms): each turn ticks only the endpoints with something due. */
const TURN_MS = 50;

const seconds = (ms: number, digits: number): string => (ms / 1000).toFixed(digits);

async function main(): Promise<void> {
  const [target = '', targetAddressText = '', countText = '', localHost = '', firstText = '1'] = process.argv.slice(2);
  const [targetHost = '', targetPortText = ''] = target.split(':');
  const targetAddress = parseDottedQuad(targetAddressText, 'MSNL address');
  const targetIp = parseDottedQuad(targetHost, 'target host');
  const localIp = parseDottedQuad(localHost, 'local host');
  const count = Number(countText);
  const first = Number(firstText);
  const targetPort = Number(targetPortText);
  if (targetAddress instanceof ArgumentError || targetIp instanceof ArgumentError || localIp instanceof ArgumentError || !Number.isInteger(count) || !Number.isInteger(first) || count < 1 || first < 1 ||
    first + count - 1 > 65_535 - SWARM_BASE_PORT || localHost === '' || !(targetPort > 0 && targetPort < 65_536)) {
    process.stderr.write('usage: swarm TARGET_HOST:PORT TARGET_MSNL_ADDR COUNT LOCAL_HOST [FIRST]\n');
    process.exit(1);
  }
  const link = { host: targetHost, port: targetPort };
  const port = TUNNEL_INTERFACES[0]!.port;
  const endpoints: MsnlEndpoint<typeof link>[] = [];
  const failures = new Map<string, number>();
  const redials = new Uint8Array(count);
  let redialled = 0;
  let callStarted = 0;
  const call = (i: number): void => {
    endpoints[i - first]!.connect({ remoteAddress: targetAddress, remotePort: port, localPort: port, ipa: parseDottedQuad(caller(i).ip) as number, link });
  };
  // Timers: each endpoint asks to be woken (EndpointOptions.wake); the asks wait in a bucket per
  // turn, so a turn ticks only the endpoints that asked for it, not a walk of every endpoint.
  const buckets = new Map<number, MsnlEndpoint<typeof link>[]>();
  const wakeAt = (endpoint: MsnlEndpoint<typeof link>, at: number): void => {
    const turn = Math.ceil(at / TURN_MS);
    const bucket = buckets.get(turn);
    if (bucket === undefined) buckets.set(turn, [endpoint]);
    else bucket.push(endpoint);
  };
  const bindStarted = Date.now();
  let sockets: SwarmSockets;
  try {
    sockets = new SwarmSockets(localIp, SWARM_BASE_PORT + first, count, targetIp, targetPort, (index, buf, offset, length) => endpoints[index]!.receiveFrame(buf, offset, length, link));
  } catch (error) {
    throw new Error(`callers ${first}..${first + count - 1} (ports ${SWARM_BASE_PORT + first}..${SWARM_BASE_PORT + first + count - 1}): ${(error as Error).message}`);
  }
  const firstRetryText = process.env['SWARM_FIRST_RETRY_MS'];
  const firstRetry = firstRetryText === undefined ? {} : { connectFirstRetryMs: Number(firstRetryText) };
  // One random source for the process: one getrandom per 256 ids, not one per endpoint.
  const random = cryptoRandom();
  const tally: CallerTally = { connected: 0, failed: 0, incoming: 0 };
  // The callers' one clock: the warm-up moves it on by hand, then sets it back (swarm-warm.ts).
  let skew = 0;
  const clock: WarmClock = { now: () => Date.now() + skew, advance: (ms) => void (skew += ms), reset: () => void (skew = 0) };
  // Caller `index` of this process: the storm's callers and the warm-up's (swarm-warm.ts) are made
  // here alike, so V8 compiles one set of functions with one set of feedback for both.
  const makeCaller = (index: number, address: number, port: CallerPort, counts: CallerTally, timedOut: (index: number) => boolean): MsnlEndpoint<typeof link> => {
    const endpoint: MsnlEndpoint<typeof link> = new MsnlEndpoint<typeof link>({
      localAddress: address,
      clock,
      random,
      wake: (at) => wakeAt(endpoint, at),
      // SWARM_FIRST_RETRY_MS in the environment: the callers' first retransmission of a request
      // after that many ms instead of msnl(7)'s 200 ms (to measure what the storm's retransmissions cost).
      config: { pathProbing: false, ...firstRetry },
      // Copied into the send slab (the endpoint reuses its frames after transmit returns).
      transmit: (_to, buf, offset, length) => port.send(index, buf, offset, length),
      events: {
        incomingCall: (call) => {
          counts.incoming++;
          endpoint.refuse(call.callId);
        },
        connected: () => void counts.connected++,
        callFailed: (_handle, reason, code) => {
          if (reason === 'timeout' && timedOut(index)) return;
          counts.failed++;
          const key = `${reason}/${code}`;
          failures.set(key, (failures.get(key) ?? 0) + 1);
        },
        data: () => undefined,
        disconnected: () => undefined,
        idle: () => undefined,
        echoReply: () => undefined,
      },
    });
    return endpoint;
  };
  // A call lost in a storm is made again after a backoff, as msnld redials (0.5 s doubling to
  // 10 s), until the swarm's 60 s are up; any other failure is final.
  const redial = (index: number): boolean => {
    if (Date.now() - callStarted >= SETTLE_MS - 10_000) return false;
    const tries = (redials[index] ?? 0) + 1;
    redials[index] = tries;
    redialled++;
    setTimeout(() => call(first + index), Math.min(500 * 2 ** (tries - 1), 10_000));
    return true;
  };
  for (let i = first; i < first + count; i++) endpoints.push(makeCaller(i - first, parseDottedQuad(caller(i).msnl) as number, sockets, tally, redial));
  // Warm the callers' code before the storm (swarm-warm.ts): otherwise V8 compiles it optimised
  // during the storm, on the two cores msnld needs.
  const warmStarted = Date.now();
  // The warm callers' wake-ups are not the storm's: the real callers' asks are put back as they were.
  const asked = [...buckets].map(([turn, bucket]): [number, MsnlEndpoint<typeof link>[]] => [turn, [...bucket]]);
  const warm = warmUp(makeCaller, link, targetAddress, port, WARM_CALLERS, clock);
  buckets.clear();
  for (const [turn, bucket] of asked) buckets.set(turn, bucket);
  if (!warm.ok) throw new Error(`the warm-up's ${warm.calls} in-process calls did not all come up and go (${warm.connected} up)`);
  const warmS = seconds(Date.now() - warmStarted, 2);
  // What the warm-up left is collected now (swarm-runner.ts gives node --expose-gc), not in the storm.
  (globalThis as { gc?: () => void }).gc?.();
  // stdin lines: `call` (once, after the bound line), `hangup`, `calls` (below).
  let input = '';
  let startCalls: (() => void) | undefined;
  const callOrder = new Promise<void>((resolve) => (startCalls = resolve));
  const onLine: { fn: (line: string) => void } = { fn: (line) => (line === 'call' ? startCalls?.() : undefined) };
  process.stdin.setEncoding('utf8').on('data', (chunk: string) => {
    input += chunk;
    for (let nl = input.indexOf('\n'); nl >= 0; nl = input.indexOf('\n')) {
      const line = input.slice(0, nl).trim();
      input = input.slice(nl + 1);
      onLine.fn(line);
    }
  });
  process.stdout.write(`bound ${count} in ${seconds(Date.now() - bindStarted, 2)} s (warm-up: ${warm.calls} calls in ${warmS} s)\n`);
  await callOrder;
  callStarted = Date.now();
  for (let i = first; i < first + count; i++) call(i);
  const ticker = setInterval(() => {
    const now = Date.now();
    const last = Math.floor(now / TURN_MS);
    const dueTurns = [...buckets.keys()].filter((turn) => turn <= last);
    for (const turn of dueTurns) {
      const bucket = buckets.get(turn) ?? [];
      buckets.delete(turn);
      // tick() runs what is due and asks again for its next deadline (an ask for now waits a turn).
      for (const e of bucket) e.tick();
    }
    sockets.flush();
  }, TURN_MS);
  // SWARM_PROGRESS=1 in the environment: a line a second on stderr while the calls settle.
  const progress = process.env['SWARM_PROGRESS'] === undefined ? undefined
    : setInterval(() => process.stderr.write(`+${Date.now() - callStarted} ms: connected ${tally.connected} failed ${tally.failed}\n`), 1000);
  const deadline = Date.now() + SETTLE_MS;
  let settledAt = Date.now();
  while (tally.connected + tally.failed < count && Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 5));
    settledAt = Date.now();
  }
  if (progress !== undefined) clearInterval(progress);
  const pending = count - tally.connected - tally.failed;
  if (pending > 0) failures.set('unanswered', pending);
  const retransmits = endpoints.reduce((sum, e) => sum + e.counters.retransmits, 0);
  process.stdout.write(`connected ${tally.connected} failed ${tally.failed + pending} in ${seconds(settledAt - callStarted, 3)} s (${retransmits} requests sent again, ${redialled} calls made again after a timeout)\n`);
  if (failures.size > 0) process.stdout.write(`failures ${[...failures].map(([k, v]) => `${k}=${v}`).join(' ')}\n`);
  const stop = (): void => {
    clearInterval(ticker);
    sockets.close();
    process.exit(0);
  };
  process.on('SIGTERM', stop);
  onLine.fn = (line) => {
    if (line === 'hangup') {
      let n = 0;
      for (const e of endpoints) for (const c of e.connections()) if (e.disconnect(c.connId)) n++;
      process.stdout.write(`hung up ${n}\n`);
    } else if (line === 'calls') process.stdout.write(`calls ${tally.incoming}\n`);
  };
  process.stdin.on('end', stop);
}

if (require.main === module) {
  main().catch((error: unknown) => {
    process.stdout.write(`Error: ${error instanceof Error ? error.message : String(error)}\n`);
    process.exit(2);
  });
}
