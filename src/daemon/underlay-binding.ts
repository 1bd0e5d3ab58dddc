// The daemon's underlay socket: bound to the listen address the store (or --listen) names, moved
// when that changes, and feeding what it receives to the MSNL endpoint. Its `socket` is what the
// endpoint's transmit reads on every send, undefined while none is bound (sends are then dropped:
// the protocol retransmits).
import { causeOf, type Logger } from '../base/logger.js';
import type { Underlay, UnderlaySocket } from '../msdl/underlay.js';
import type { MsnlEndpoint } from '../msnl/endpoint.js';

export class UnderlayBinding<L> {
  socket: UnderlaySocket<L> | undefined;
  private text: string | undefined;

  constructor(private readonly underlay: Underlay<L>, private readonly log: Logger) {}

  /** Binds `host:port` unless already bound there, closing the previous socket first; a failure is logged and leaves none bound. */
  async bind(host: string, port: number, endpoint: MsnlEndpoint<L>): Promise<void> {
    const text = `${host}:${port}`;
    if (text === this.text && this.socket !== undefined) return;
    const previous = this.socket;
    this.socket = undefined;
    if (previous !== undefined) await previous.close();
    try {
      this.socket = await this.underlay.open(host, port, (buf, offset, length, link, held) => {
        if (held === true) endpoint.receiveHeld(buf, offset, length, link);
        else endpoint.receiveFrame(buf, offset, length, link);
      }, {
        tooBig: (link, maxPayload) => endpoint.pathTooBig(link, maxPayload),
        burstEnd: () => endpoint.receivedBurst(),
      });
      this.text = text;
      const kind = this.socket.kind;
      this.log.info(`listening on underlay ${this.socket.describe()}${kind === undefined ? '' : ` (${kind})`}`);
    } catch (error) {
      this.text = undefined;
      this.log.error(`failed to listen on underlay ${text}: ${causeOf(error)}`);
    }
  }

  /** `HOST:PORT` bound, undefined when none is. */
  describe(): string | undefined {
    return this.socket?.describe();
  }

  async close(): Promise<void> {
    const socket = this.socket;
    this.socket = undefined;
    await socket?.close();
  }
}
