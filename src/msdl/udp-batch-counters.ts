// The counters and errors of BatchUdpSocket (udp-batch.ts), apart so the socket file stays about
// its queue and its slabs.
import { sysErrorOf } from '../abi/errno.js';

export interface BatchUdpCounters {
  datagramsSent: number;
  bytesSent: number;
  datagramsReceived: number;
  bytesReceived: number;
  /** sendmmsg / recvmmsg calls that moved at least one datagram. */
  sendBatches: number;
  receiveBatches: number;
  /** Datagrams the kernel refused (EMSGSIZE, EPERM, ...), or larger than MAX_UDP_PAYLOAD. */
  sendErrors: number;
  /** Datagrams dropped because the queue was full or the socket closed with them queued. */
  queueDrops: number;
  /** Times a send burst hit EAGAIN and waited for writability. */
  sendBlocked: number;
  /** Received datagrams longer than a slot (dropped), receive errors, onReceive exceptions. */
  truncated: number;
  receiveErrors: number;
  /** Slots that held a coalesced run of datagrams (UDP GRO). */
  coalescedRuns: number;
  /** sendmmsg calls in which the kernel refused a GSO run (sent plainly instead). */
  gsoRefused: number;
  handlerErrors: number;
  /** Datagrams refused as too big for their path (EMSGSIZE; never fragmented). */
  tooBig: number;
}

export class UdpSocketError extends Error {
  constructor(message: string, readonly code: string | undefined) {
    super(message);
    this.name = 'UdpSocketError';
  }
}

/** The addon's error (or -errno) as `failed to <action> UDP socket <where>: <cause> [CODE]`. */
export function udpError(where: string, action: string, cause: unknown): UdpSocketError {
  const { code, message } = sysErrorOf(cause);
  const text = message !== undefined && message !== '' ? message : (code ?? String(cause));
  if (text.startsWith('failed to ')) return new UdpSocketError(code === undefined ? text : `${text} [${code}]`, code);
  return new UdpSocketError(`failed to ${action} UDP socket ${where}: ${text}${code === undefined ? '' : ` [${code}]`}`, code);
}

export function newBatchUdpCounters(): BatchUdpCounters {
  return {
    datagramsSent: 0, bytesSent: 0, datagramsReceived: 0, bytesReceived: 0, sendBatches: 0, receiveBatches: 0,
    sendErrors: 0, queueDrops: 0, sendBlocked: 0, truncated: 0, receiveErrors: 0, coalescedRuns: 0, gsoRefused: 0, handlerErrors: 0, tooBig: 0,
  };
}
