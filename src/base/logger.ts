// The logger every part takes by injection: one line per event, four levels (error, warn, info,
// debug; `verbose` is the old name of debug, kept as a level name and as a method). As with
// wireguard-go, a silenced level is a no-op function, so disabled log calls cost one call.
// Error lines follow `failed to <verb> <thing>: <cause>`; man/msnld.8 DIAGNOSTICS quotes them.
// How a line looks depends on where it goes (src/base/log-sink.ts picks): plain
// `msnld: LEVEL: message` on a terminal, `<N>` syslog priorities and no time under journald,
// an ISO 8601 time first in a log file.

export type LogLevel = 'error' | 'warn' | 'info' | 'debug';

export const LOG_LEVELS: readonly LogLevel[] = ['error', 'warn', 'info', 'debug'];

/** Accepted by --log-level: the four levels and `verbose`, the old name of debug. */
export const LOG_LEVEL_NAMES: readonly string[] = [...LOG_LEVELS, 'verbose'];

/** syslog(3) priorities of the levels, for journald's `<N>` prefixes (sd-daemon(3)). */
export const SYSLOG_PRIORITY: Readonly<Record<LogLevel, number>> = { error: 3, warn: 4, info: 6, debug: 7 };

export interface Logger {
  error(message: string): void;
  warn(message: string): void;
  info(message: string): void;
  debug(message: string): void;
  /** The same as debug. */
  verbose(message: string): void;
}

export type LineStyle = 'plain' | 'journal' | 'timestamped';

const noop = (): void => undefined;

/** One formatted line (LF-terminated) in the given style; `now` is the clock in ms since the epoch. */
export function formatLine(style: LineStyle, prefix: string, level: LogLevel, message: string, now: () => number): string {
  const text = `${prefix}: ${level}: ${message}\n`;
  if (style === 'journal') return `<${SYSLOG_PRIORITY[level]}>${text}`;
  if (style === 'timestamped') return `${new Date(now()).toISOString()} ${text}`;
  return text;
}

export interface LoggerOptions {
  readonly style?: LineStyle;
  readonly prefix?: string;
  readonly now?: () => number;
  /** Where error lines go when not to `write`: a buffered sink's write-at-once (src/base/log-sink.ts). */
  readonly urgent?: (line: string) => void;
}

/** A logger writing lines to a sink (stderr by default), plain `msnld: LEVEL: message` by default. */
export function createLogger(level: LogLevel | 'verbose', write: (line: string) => void = (line) => process.stderr.write(line), options: LoggerOptions = {}): Logger {
  const rank = LOG_LEVELS.indexOf(level === 'verbose' ? 'debug' : level);
  const { style = 'plain', prefix = 'msnld', now = Date.now, urgent = write } = options;
  const at = (name: LogLevel) => {
    const to = name === 'error' ? urgent : write;
    return rank >= LOG_LEVELS.indexOf(name) ? (message: string) => to(formatLine(style, prefix, name, message, now)) : noop;
  };
  const debug = at('debug');
  return { error: at('error'), warn: at('warn'), info: at('info'), debug, verbose: debug };
}

/** Parses a --log-level value (verbose means debug); undefined when it is none of them. */
export function parseLogLevel(text: string): LogLevel | undefined {
  if (text === 'verbose') return 'debug';
  return (LOG_LEVELS as readonly string[]).includes(text) ? (text as LogLevel) : undefined;
}

/** The message of any thrown value, for `failed to ...: <cause>` lines. */
export function causeOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
