// The logger every part takes by injection: one line per event, three levels (error, info, verbose). As with
// wireguard-go, a silenced level is a no-op function, so disabled log calls cost one call.
// Error lines follow `failed to <verb> <thing>: <cause>`; man/msnld.8 DIAGNOSTICS quotes them.

export type LogLevel = 'error' | 'info' | 'verbose';

export const LOG_LEVELS: readonly LogLevel[] = ['error', 'info', 'verbose'];

export interface Logger {
  error(message: string): void;
  info(message: string): void;
  verbose(message: string): void;
}

const noop = (): void => undefined;

/** A logger writing `msnld: LEVEL: message` lines to a sink (stderr by default). */
export function createLogger(level: LogLevel, write: (line: string) => void = (line) => process.stderr.write(line), prefix = 'msnld'): Logger {
  const rank = LOG_LEVELS.indexOf(level);
  const at = (name: LogLevel) => (rank >= LOG_LEVELS.indexOf(name) ? (message: string) => write(`${prefix}: ${name}: ${message}\n`) : noop);
  return { error: at('error'), info: at('info'), verbose: at('verbose') };
}

/** Parses a --log-level value; undefined when it is not one of the three. */
export function parseLogLevel(text: string): LogLevel | undefined {
  return (LOG_LEVELS as readonly string[]).includes(text) ? (text as LogLevel) : undefined;
}

/** The message of any thrown value, for `failed to ...: <cause>` lines. */
export function causeOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
