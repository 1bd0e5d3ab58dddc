// A progress bar on stderr, drawn only when stderr is a terminal.
export interface Progress {
  update(done: number, total: number): void;
  finish(): void;
}

export function progressBar(label: string, write: (text: string) => void, enabled: boolean): Progress {
  if (!enabled) return { update() {}, finish() {} };
  let drawn = false;
  return {
    update(done, total) {
      const fraction = total === 0 ? 1 : done / total;
      const width = 30;
      const filled = Math.round(fraction * width);
      write(`\r${label} [${'#'.repeat(filled)}${' '.repeat(width - filled)}] ${Math.floor(fraction * 100)}% ${done}/${total}`);
      drawn = true;
    },
    finish() {
      if (drawn) write('\r\x1b[K');
    },
  };
}
