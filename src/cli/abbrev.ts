// Unique-prefix abbreviations of objects and commands, as ip(8) takes them: `msnl r s` is
// `msnl route show`, `msnl m a ...` is `msnl map add ...`. A prefix several names share names the
// first of them in the order `msnl --help` lists them (ip does the same: `ip a` is `ip address`).
// Pure: rewrites the argument list before commander parses it; unknown words are left for
// commander to report.
import type { Command } from 'commander';

/** Global options that take a value (the value is not an object name). */
const VALUED = new Set(['--db', '--socket', '-n', '--netns']);

function expandWord(parent: Command, word: string): { word: string; command: Command | undefined } {
  const commands = parent.commands;
  const exact = commands.find((c) => c.name() === word || c.aliases().includes(word));
  if (exact !== undefined) return { word, command: exact };
  if (word.startsWith('-') || word === '') return { word, command: undefined };
  const first = commands.find((c) => c.name().startsWith(word));
  return first === undefined ? { word, command: undefined } : { word: first.name(), command: first };
}

/** Where the object word is: past the global options (and their values); args.length when there is none. */
export function objectWordIndex(args: readonly string[]): number {
  let i = 0;
  while (i < args.length && args[i]!.startsWith('-')) {
    if (VALUED.has(args[i]!)) i++;
    i++;
  }
  return Math.min(i, args.length);
}

/** The argument list with the object and command words expanded to full names. */
export function expandAbbreviations(program: Command, args: readonly string[]): string[] {
  const out = [...args];
  const i = objectWordIndex(out);
  if (i >= out.length) return out;
  const object = expandWord(program, out[i]!);
  out[i] = object.word;
  const next = i + 1;
  if (object.command === undefined || object.command.commands.length === 0 || next >= out.length) return out;
  out[next] = expandWord(object.command, out[next]!).word;
  return out;
}
