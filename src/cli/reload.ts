// msnl reload: make msnld reconcile its running state with the database now, as SIGHUP does.
// Table edits are picked up by the daemon by itself; this is for scripts that must not wait.
import type { Command } from 'commander';
import type { CliContext } from './context.js';

export function register(program: Command, context: CliContext): void {
  program
    .command('reload')
    .description('make msnld apply the database now (as SIGHUP does)')
    .action(async () => {
      await context.daemon('reload msnld', (client) => client.reload());
    });
}
