import type { Command } from 'commander';
import { clientAction } from '../client-command.js';
import { EXIT_CODES } from '../exit-codes.js';
import { formatJobLine } from '../format-job.js';

export function registerCancelCommand(program: Command): void {
  program
    .command('cancel')
    .description('cancel a queued job, or stop a running one')
    .argument('<job_id>')
    .action(
      clientAction(async (context, jobId: string) => {
        const job = await context.client.cancel(jobId);
        if (context.json) context.printJson(job);
        else context.print(`${formatJobLine(job)}\n`);
        return EXIT_CODES.ok;
      }),
    );
}
