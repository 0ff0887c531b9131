import type { Command } from 'commander';
import { clientAction } from '../client-command.js';
import { EXIT_CODES } from '../exit-codes.js';
import { formatJobDetails } from '../format-job.js';

export function registerStatusCommand(program: Command): void {
  program
    .command('status')
    .description("show one job's state, stage, progress and error")
    .argument('<job_id>')
    .action(
      clientAction(async (context, jobId: string) => {
        const job = await context.client.getJob(jobId);
        if (context.json) context.printJson(job);
        else context.print(`${formatJobDetails(job)}\n`);
        return EXIT_CODES.ok;
      }),
    );
}
