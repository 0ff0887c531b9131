import path from 'node:path';
import { type Command, Option } from 'commander';
import {
  CONTENT_SUBTYPES,
  JOB_TYPES,
  OCR_ENGINES,
  type OutputFormat,
  SPEECH_ENGINES,
} from '../../contract/index.js';
import { collectList, parseFormats, parsePositiveInt } from '../cli-arguments.js';
import { clientAction } from '../client-command.js';
import { runFolderSubmit } from '../run-folder-submit.js';
import { lineProgress, type SubmitProgress, silentProgress, terminalProgress } from '../submit-progress.js';
import { DEFAULT_STATE_FILENAME, SubmitStateFile } from '../submit-state-file.js';

interface SubmitOptions {
  include: string[];
  exclude: string[];
  type?: string;
  subtype?: string;
  language?: string;
  engine?: string;
  speechEngine?: string;
  wait?: boolean;
  out?: string;
  format: OutputFormat[];
  state?: string;
  concurrency: number;
  retryFailed?: boolean;
}

export function registerSubmitCommand(program: Command): void {
  program
    .command('submit')
    .description(
      'submit files and whole folders (recursively); with --out, write every result next to its name',
    )
    .argument('<paths...>', 'files and folders')
    .option(
      '--include <glob>',
      'only files matching (repeatable; `*.pdf` matches at any depth)',
      collectList,
      [],
    )
    .option('--exclude <glob>', 'leave out files matching (repeatable; wins over --include)', collectList, [])
    .addOption(new Option('--type <job_type>', 'refuse files that are not of this type').choices(JOB_TYPES))
    .addOption(new Option('--subtype <content_subtype>', 'content subtype').choices(CONTENT_SUBTYPES))
    .option('--language <language>', 'OCR: tesseract languages such as hin+eng; transcription: en')
    .addOption(new Option('--engine <engine>', 'OCR engine for documents').choices(OCR_ENGINES))
    .addOption(
      new Option(
        '--speech-engine <engine>',
        'speech engine for recordings (one the server offers: GET /v1/config)',
      ).choices(SPEECH_ENGINES),
    )
    .option('--wait', 'follow every job until it ends, with progress (implied by --out)')
    .option('--out <dir>', 'write results here, at each file’s relative name (implies --wait)')
    .option('--format <formats>', 'results to write with --out, comma-separated', parseFormats, ['txt'])
    .option('--state <file>', `where this run remembers its jobs (default <out>/${DEFAULT_STATE_FILENAME})`)
    .option('--concurrency <n>', 'uploads at a time', parsePositiveInt, 2)
    .option('--retry-failed', 'run again the jobs an earlier run saw fail or be cancelled')
    .action(
      clientAction(async (context, inputs: string[], options: SubmitOptions) => {
        const outDir = options.out ? path.resolve(options.out) : null;
        const statePath = options.state
          ? path.resolve(options.state)
          : outDir
            ? path.join(outDir, DEFAULT_STATE_FILENAME)
            : null;
        const state = statePath ? await SubmitStateFile.open(statePath) : null;
        const progress: SubmitProgress = context.json
          ? silentProgress
          : process.stdout.isTTY
            ? terminalProgress(process.stdout)
            : lineProgress(context.print);
        const result = await runFolderSubmit(
          context.client,
          {
            inputs,
            include: options.include,
            exclude: options.exclude,
            fields: {
              job_type: options.type,
              content_subtype: options.subtype,
              language: options.language,
              ocr_engine: options.engine,
              transcription_engine: options.speechEngine,
            },
            wait: options.wait === true,
            outDir,
            formats: options.format,
            state,
            concurrency: options.concurrency,
            retryFailed: options.retryFailed === true,
          },
          progress,
        ).finally(() => progress.close());
        const failed = result.files.filter((file) => !file.ok);
        const skipped = result.files.filter((file) => file.skipped && file.ok).length;
        if (context.json) {
          context.printJson({
            server: context.client.server,
            out: outDir,
            state_file: statePath,
            files: result.files,
            summary: {
              files: result.files.length,
              succeeded: result.files.length - failed.length,
              failed: failed.length,
              skipped,
            },
          });
        } else {
          context.print(
            `${result.files.length} ${result.files.length === 1 ? 'file' : 'files'}: ${result.files.length - failed.length} ok${skipped > 0 ? ` (${skipped} already done)` : ''}, ${failed.length} failed\n`,
          );
          for (const file of failed) {
            context.print(
              `  ${file.input}: ${file.error_code ?? file.status}: ${file.error_message ?? ''}\n`,
            );
          }
        }
        return result.exitCode;
      }),
    );
}
