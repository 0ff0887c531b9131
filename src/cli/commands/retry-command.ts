import type { Command } from 'commander';
import { clientAction } from '../client-command.js';
import { EXIT_CODES } from '../exit-codes.js';
import { formatJobLine } from '../format-job.js';

export function registerRetryCommand(program: Command): void {
  program
    .command('retry')
    .description('run a FAILED or CANCELLED job again, as a new job')
    .argument('<job_id>')
    .option('--language <language>', 'another language for the new job')
    .action(
      clientAction(async (context, jobId: string, options: { language?: string }) => {
        const job = await context.client.retry(jobId, { language: options.language });
        if (context.json) context.printJson(job);
        else context.print(`${formatJobLine(job)}\n`);
        return EXIT_CODES.ok;
      }),
    );
}
