// The system commands the demo and the tests run, each with the Debian package that has it, read
// from the one list scripts/system-tools (the list scripts/system-deps installs from).
import fs from 'node:fs';
import path from 'node:path';
import { missingTools, PACKAGE_ROOT } from './topology.js';

export const SYSTEM_TOOLS_FILE = path.join(PACKAGE_ROOT, 'scripts', 'system-tools');

export interface SystemTool {
  readonly command: string;
  readonly pkg: string;
  /** Needed only to build the addon and better-sqlite3 (node-gyp), not to run anything. */
  readonly build: boolean;
}

/** Parses the list: `COMMAND PACKAGE [build]` a line, `#` comments and blank lines ignored. */
export function parseSystemTools(text: string): SystemTool[] {
  const tools: SystemTool[] = [];
  for (const [i, raw] of text.split('\n').entries()) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) continue;
    const [command, pkg, tag, ...rest] = line.split(/\s+/);
    if (command === undefined || pkg === undefined || (tag !== undefined && tag !== 'build') || rest.length > 0) {
      throw new Error(`line ${i + 1} of ${SYSTEM_TOOLS_FILE} is wrong: "${line}" (expected COMMAND PACKAGE [build])`);
    }
    tools.push({ command, pkg, build: tag === 'build' });
  }
  return tools;
}

export function systemTools(): SystemTool[] {
  return parseSystemTools(fs.readFileSync(SYSTEM_TOOLS_FILE, 'utf8'));
}

/** The packages (each once) of those commands that are not on PATH; a command not in the list is an error. */
export function missingPackages(commands: readonly string[]): string[] {
  const tools = systemTools();
  const pairs = commands.map((command) => {
    const tool = tools.find((t) => t.command === command);
    if (tool === undefined) throw new Error(`${command} is not in ${SYSTEM_TOOLS_FILE}: add it with its Debian package`);
    return [command, tool.pkg] as const;
  });
  return [...new Set(missingTools(pairs))];
}
