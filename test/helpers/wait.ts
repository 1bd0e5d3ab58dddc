// Polls a condition on real time, bounded: resolves when it holds, rejects after `timeoutMs`.

export function waitFor(what: string, cond: () => boolean, timeoutMs = 5000, stepMs = 5): Promise<void> {
  const start = Date.now();
  return new Promise((resolve, reject) => {
    const poll = (): void => {
      if (cond()) resolve();
      else if (Date.now() - start > timeoutMs) reject(new Error(`failed to see ${what} within ${timeoutMs} ms`));
      else setTimeout(poll, stepMs);
    };
    poll();
  });
}
