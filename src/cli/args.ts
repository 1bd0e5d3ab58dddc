// Keyword/value argument lists in the iproute2 style: `comment TEXT lifetime 60`.
import { ArgumentError } from '../abi/inet.js';
import { UsageError } from './errors.js';

/**
 * Splits `args` into keyword -> value for the allowed keywords (each takes one value, at most
 * once). Flag keywords (no value) are listed in `flags`. Throws a usage error otherwise.
 */
export function parseKeywords(args: readonly string[], keywords: readonly string[], flags: readonly string[] = []): Map<string, string> {
  const result = new Map<string, string>();
  for (let i = 0; i < args.length; i++) {
    const word = args[i] as string;
    const isFlag = flags.includes(word);
    if (!isFlag && !keywords.includes(word)) {
      const expected = [...keywords, ...flags].map((k) => `"${k}"`).join(', ');
      throw new ArgumentError(word, `unknown keyword, expected ${expected}`);
    }
    if (result.has(word)) throw new UsageError(`duplicate "${word}"`);
    if (isFlag) {
      result.set(word, '');
      continue;
    }
    const value = args[i + 1];
    if (value === undefined) throw new UsageError(`argument "${word}" needs a value`);
    result.set(word, value);
    i++;
  }
  return result;
}

/** Parses a decimal integer in [min, max]. */
export function parseInteger(text: string, min: number, max: number, what: string): number | ArgumentError {
  if (!/^(0|[1-9][0-9]{0,15})$/.test(text)) return new ArgumentError(text, `${what} must be a decimal integer`);
  const value = Number(text);
  if (value < min || value > max) return new ArgumentError(text, `${what} must be between ${min} and ${max}`);
  return value;
}

/** Parses a non-negative decimal number (`0.5`, `2`) in [min, max]. */
export function parseDecimal(text: string, min: number, max: number, what: string): number | ArgumentError {
  if (!/^([0-9]{1,9}(\.[0-9]{0,9})?|\.[0-9]{1,9})$/.test(text)) return new ArgumentError(text, `${what} must be a decimal number`);
  const value = Number(text);
  if (value < min || value > max) return new ArgumentError(text, `${what} must be between ${min} and ${max}`);
  return value;
}
