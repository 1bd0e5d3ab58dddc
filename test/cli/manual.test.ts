import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { CLI, sandbox } from '../helpers/cli.js';
import { requireTools } from '../helpers/tools.js';

const MAN = path.resolve(__dirname, '..', '..', '..', 'man', 'msnl.8');

/** The command names listed under "Commands:" in a --help text, without commander's `help`. */
function commandsOf(help: string): string[] {
  const section = help.split(/^Commands:$/m)[1];
  if (section === undefined) return [];
  const names: string[] = [];
  for (const line of section.split('\n')) {
    const match = /^ {2}([a-z][a-z-]*)(?:\|[a-z-]+)?\b/.exec(line);
    if (match && match[1] !== 'help') names.push(match[1] as string);
  }
  return names;
}

function help(args: string[]): string {
  const result = spawnSync(process.execPath, [CLI, ...args, '--help'], { encoding: 'utf8', timeout: 30_000 });
  assert.equal(result.status, 0, result.stderr);
  return result.stdout;
}

test('every command in msnl --help, and every subcommand, is documented in msnl.8', () => {
  const man = fs.readFileSync(MAN, 'utf8');
  const objects = commandsOf(help([]));
  assert.ok(objects.length >= 4, `found objects: ${objects.join(' ')}`);
  let checked = 0;
  for (const object of objects) {
    const subcommands = commandsOf(help([object]));
    const wanted = subcommands.length === 0 ? [object] : subcommands.map((sub) => `${object} ${sub}`);
    for (const command of wanted) {
      assert.match(man, new RegExp(`^\\.It Nm Cm ${command}\\b`, 'm'), `msnl ${command} is missing from man/msnl.8`);
      checked++;
    }
  }
  assert.ok(checked >= 12, `only ${checked} commands checked`);
});

test('man/msnl.8 passes mandoc -T lint', () => {
  requireTools(['mandoc']);
  const result = spawnSync('mandoc', ['-T', 'lint', '-W', 'warning', MAN], { encoding: 'utf8' });
  assert.equal(result.error, undefined, 'mandoc must be installed (apt-get install mandoc)');
  assert.equal(`${result.stdout}${result.stderr}`, '');
  assert.equal(result.status, 0);
});

test('the EXAMPLES of msnl.8 that edit tables run as written', (t) => {
  const man = fs.readFileSync(MAN, 'utf8');
  const examples = man.split(/^\.Sh EXAMPLES$/m)[1]?.split(/^\.Sh /m)[0] ?? '';
  const commands = [...examples.matchAll(/^\.Bd -literal.*\n([\s\S]*?)^\.Ed$/gm)].flatMap((m) => (m[1] as string).split('\n').filter(Boolean));
  assert.ok(commands.length >= 6, `found ${commands.length} example commands`);
  const box = sandbox(t);
  const bin = path.join(box.dir, 'bin');
  fs.mkdirSync(bin);
  fs.writeFileSync(path.join(bin, 'msnl'), `#!/bin/sh\nexec "${process.execPath}" "${CLI}" "$@"\n`, { mode: 0o755 });
  const env = { ...process.env, PATH: `${bin}:${process.env.PATH ?? ''}`, MSNL_DB: box.db, MSNL_SOCKET: path.join(box.dir, 'none.sock') };
  for (const command of commands) {
    const result = spawnSync('/bin/sh', ['-e', '-c', command], { cwd: box.dir, env, encoding: 'utf8', timeout: 30_000 });
    assert.equal(result.status, 0, `${command}: ${result.stderr}`);
  }
  const copied = spawnSync('/bin/sh', ['-c', 'msnl --db other.db map show'], { cwd: box.dir, env, encoding: 'utf8' });
  assert.match(copied.stdout, /^10\.9\.0\.0\/16 msnl 128\.232\.65\.42 origin import comment "lab hosts"$/m);
});
