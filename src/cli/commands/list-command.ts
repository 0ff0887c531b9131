import { type Command, Option } from 'commander';
import { JOB_STATUSES, JOB_TYPES } from '../../contract/index.js';
import { parsePositiveInt } from '../cli-arguments.js';
import { clientAction } from '../client-command.js';
import { EXIT_CODES } from '../exit-codes.js';
import { formatJobLine } from '../format-job.js';

interface ListOptions {
  type?: string;
  status?: string;
  search?: string;
  limit: number;
  cursor?: string;
}

export function registerListCommand(program: Command): void {
  program
    .command('list')
    .description('your jobs, newest first')
    .addOption(new Option('--type <type>', 'only this job type').choices(JOB_TYPES))
    .option('--status <statuses>', `one status or several, comma-separated (${JOB_STATUSES.join(', ')})`)
    .option('--search <text>', 'part of the file name')
    .option('--limit <n>', 'jobs per page, 1–100', parsePositiveInt, 20)
    .option('--cursor <cursor>', 'next_cursor of the previous page')
    .action(
      clientAction(async (context, options: ListOptions) => {
        const page = await context.client.listJobs({
          job_type: options.type,
          status: options.status?.toUpperCase(),
          q: options.search,
          limit: options.limit,
          cursor: options.cursor,
        });
        if (context.json) {
          context.printJson(page);
          return EXIT_CODES.ok;
        }
        for (const job of page.items) context.print(`${formatJobLine(job)}\n`);
        context.print(`${page.items.length} of ${page.total} shown`);
        context.print(page.next_cursor ? `; next page: --cursor ${page.next_cursor}\n` : '\n');
        return EXIT_CODES.ok;
      }),
    );
}
