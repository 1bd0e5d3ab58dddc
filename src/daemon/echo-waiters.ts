// MSNL Echo requests waiting for their replies (the control socket's ping): each wait ends with
// the reply's round trip, or with null on timeout or abort, whichever comes first.

export class EchoWaiters {
  private readonly waiting = new Map<number, (rttMs: number) => void>();

  /** The reply to the Echo `ident` arrived (an unknown or late ident is ignored). */
  replied(ident: number, rttMs: number): void {
    this.waiting.get(ident)?.(rttMs);
  }

  /** Waits for the reply to the Echo just sent as `ident`: its round trip in ms, or null after `timeoutMs` or on abort. */
  wait(ident: number, timeoutMs: number, signal: AbortSignal): Promise<number | null> {
    return new Promise<number | null>((resolve) => {
      const finish = (value: number | null): void => {
        clearTimeout(timer);
        signal.removeEventListener('abort', aborted);
        this.waiting.delete(ident);
        resolve(value);
      };
      const aborted = (): void => finish(null);
      const timer = setTimeout(() => finish(null), timeoutMs);
      signal.addEventListener('abort', aborted);
      this.waiting.set(ident, (rttMs) => finish(rttMs));
    });
  }
}
