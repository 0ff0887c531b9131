import path from 'node:path';
import type { Command } from 'commander';
import type { OutputFormat } from '../../contract/index.js';
import { parseFormats } from '../cli-arguments.js';
import { clientAction } from '../client-command.js';
import { downloadResults, planDownloads } from '../download-results.js';
import { EXIT_CODES } from '../exit-codes.js';

export function registerDownloadCommand(program: Command): void {
  program
    .command('download')
    .description("write a completed job's results, named after its file: <name>.<format>")
    .argument('<job_id>')
    .option('--format <formats>', 'comma-separated: txt, json, srt, vtt, pdf, hocr', parseFormats, ['txt'])
    .option('--out <dir>', 'folder to write into', '.')
    .action(
      clientAction(async (context, jobId: string, options: { format: OutputFormat[]; out: string }) => {
        const job = await context.client.getJob(jobId);
        const stem = path.parse(path.basename(job.input_filename)).name || job.job_id;
        const plan = planDownloads(job, options.format, stem);
        const written =
          job.status === 'COMPLETED' ? await downloadResults(context.client, job, plan, options.out) : [];
        const files = written.map((relativePath) => path.join(options.out, relativePath));
        if (context.json) {
          context.printJson({ job_id: job.job_id, status: job.status, files, unavailable: plan.unavailable });
        } else {
          for (const file of files) context.print(`${file}\n`);
        }
        if (job.status !== 'COMPLETED') {
          context.warn(`doc-transcribe: job ${job.job_id} is ${job.status}, so it has no results yet\n`);
          return EXIT_CODES.failed;
        }
        if (plan.unavailable.length > 0) {
          context.warn(`doc-transcribe: job ${job.job_id} has no ${plan.unavailable.join(', ')} result\n`);
          return files.length > 0 ? EXIT_CODES.partial : EXIT_CODES.failed;
        }
        return EXIT_CODES.ok;
      }),
    );
}
