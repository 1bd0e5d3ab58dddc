import { test } from 'node:test';
import assert from 'node:assert/strict';
import { MsnlEndpoint } from '../../src/msnl/endpoint.js';
import { cryptoRandom } from '../../src/base/random.js';
import { warmUp, type MakeCaller } from '../../bench/swarm-warm.js';

type Link = { host: string; port: number };

test('the swarm warm-up: every throwaway call is confirmed (after a lost request, a lost confirm, or twice), probed and hung up, through the callers\' own factory', () => {
  const random = cryptoRandom();
  let made = 0;
  let requests = 0;
  let retransmits = 0;
  const callers: MsnlEndpoint<Link>[] = [];
  let skew = 0;
  const clock = { now: () => Date.now() + skew, advance: (ms: number) => void (skew += ms), reset: () => void (skew = 0) };
  const make: MakeCaller<Link> = (index, address, port, counts, timedOut) => {
    made++;
    const endpoint: MsnlEndpoint<Link> = new MsnlEndpoint<Link>({
      localAddress: address, clock, random, config: { pathProbing: false },
      transmit: (_to, buf, offset, length) => port.send(index, buf, offset, length),
      events: {
        incomingCall: () => void counts.incoming++,
        connected: () => void counts.connected++,
        callFailed: (_h, reason) => void (reason === 'timeout' && timedOut(index) ? undefined : counts.failed++),
        data: () => undefined, disconnected: () => undefined, idle: () => undefined, echoReply: () => undefined,
      },
    });
    callers.push(endpoint);
    return endpoint;
  };
  const result = warmUp(make, { host: '192.0.2.1', port: 7010 }, 0x80e80001, 0x0800, 50, clock);
  for (const c of callers) {
    requests += c.counters.requestsSent;
    retransmits += c.counters.retransmits;
  }
  assert.deepEqual(result, { ok: true, calls: 150, connected: 150 });
  assert.equal(made, 50);
  // Three rounds of one request each; the first round's requests and the second's confirms are
  // lost once: two retransmissions each. The clock is set back.
  assert.equal(retransmits, 100);
  assert.equal(requests, 250);
  assert.equal(skew, 0);
  assert.ok(callers.every((c) => c.connectionCount === 0));
});
