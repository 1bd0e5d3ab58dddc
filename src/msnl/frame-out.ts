// What leaves the endpoint, counted: every datagram goes through here to the shell's transmit (or
// its transmitRun for a run of equal-stride datagrams), and the frames the endpoint makes of its
// own accord are built here in reused buffers: the health probes and replies (msnl(7) Probes) and
// the 8-octet reset, rate-limited (msnl(7) Resets).
import type { Clock } from '../base/clock.js';
import { TokenBucket } from '../base/token-bucket.js';
import type { Connection } from './connection.js';
import { MsgType, PROBE_SIZE } from './constants.js';
import type { EndpointOptions } from './endpoint-options.js';
import type { EndpointConfig, EndpointCounters } from './types.js';
import { ACK_PROBE_SIZE, ASK_PROBE_CODE, ASK_REPLY_SIZE, encodeReset, NO_ACK, writeAckProbe, writeAskReply, writeProbe } from './wire.js';

type TransmitRun<L> = NonNullable<EndpointOptions<L>['transmitRun']>;

export class FrameOut<L> {
  private readonly probeFrame = new Uint8Array(ACK_PROBE_SIZE);
  /** Its first 16 octets (a probe or any reply), made once: the encoders' own views would be one allocation a probe. */
  private readonly probeFrame16 = this.probeFrame.subarray(0, PROBE_SIZE);
  /** Its first 20 octets (an asking probe's reply). */
  private readonly probeFrame20 = this.probeFrame.subarray(0, ASK_REPLY_SIZE);
  private readonly resetBucket: TokenBucket;

  constructor(
    private readonly counters: EndpointCounters,
    private readonly transmit: EndpointOptions<L>['transmit'],
    config: EndpointConfig,
    private readonly clock: Clock,
  ) {
    this.resetBucket = new TokenBucket(config.resetRatePerSecond, config.resetBurst, () => clock.now());
  }

  out(link: L, bytes: Uint8Array): void {
    this.outFrame(link, bytes, 0, bytes.length);
  }

  outFrame(link: L, buf: Uint8Array, offset: number, length: number): void {
    this.counters.datagramsOut++;
    this.counters.bytesOut += length;
    this.transmit(link, buf, offset, length);
  }

  /** transmitRun, counted as outFrame counts each datagram. */
  outRun(run: TransmitRun<L>): TransmitRun<L> {
    return (link, count, stride, last, fill) => {
      const sent = run(link, count, stride, last, fill);
      if (sent !== null) {
        this.counters.datagramsOut += count;
        this.counters.bytesOut += (count - 1) * stride + last;
      }
      return sent;
    };
  }

  /** Answers traffic on an unknown connection with the 8-octet reset, rate-limited. */
  sendReset(link: L, connId: number, reason: number): void {
    if (!this.resetBucket.take()) {
      this.counters.resetsRateLimited++;
      return;
    }
    this.counters.resetsSent++;
    this.out(link, encodeReset(connId, reason));
  }

  /**
   * A health probe or reply for `conn` in the reused frame (valid until the next; transmit and
   * sealing copy it). `code` 3: an acknowledging probe carrying the connection's acknowledgement,
   * or the code-3 reply to one; 4: an asking probe (acknowledging too), or its reply, which asks
   * the prober for `askMs` between its probes (msnl(7) Probes).
   */
  probe(conn: Connection<L>, type: 8 | 9, seq: number, stamp: number, code: 0 | 3 | 4, askMs: number): Uint8Array {
    if (code === ASK_PROBE_CODE && type === MsgType.PROBE_REPLY) {
      writeAskReply(this.probeFrame20, conn.remoteConnId, seq, stamp, askMs);
      return this.probeFrame20;
    }
    if (code === 0 || type === MsgType.PROBE_REPLY) {
      writeProbe(this.probeFrame16, type, conn.remoteConnId, seq, stamp);
      if (code !== 0) this.probeFrame16[3] = code;
      return this.probeFrame16;
    }
    writeAckProbe(this.probeFrame, conn.remoteConnId, seq, stamp, conn.ackSeq, conn.ackHoldMs(this.clock.now(), NO_ACK), code);
    return this.probeFrame;
  }
}
