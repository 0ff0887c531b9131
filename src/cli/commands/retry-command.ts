import { type Command, Option } from 'commander';
import {
  CONTENT_SUBTYPES,
  type ContentSubtype,
  OCR_ENGINES,
  type OcrEngineName,
  SPEECH_ENGINES,
  type SpeechEngineName,
} from '../../contract/index.js';
import { clientAction } from '../client-command.js';
import { EXIT_CODES } from '../exit-codes.js';
import { formatJobLine } from '../format-job.js';

interface RetryOptions {
  language?: string;
  subtype?: ContentSubtype;
  engine?: OcrEngineName;
  speechEngine?: SpeechEngineName | 'default';
}

export function registerRetryCommand(program: Command): void {
  program
    .command('retry')
    .description('run a FAILED or CANCELLED job again, as a new job')
    .argument('<job_id>')
    .option('--language <language>', 'another language for the new job')
    .addOption(new Option('--subtype <content_subtype>', 'another content subtype').choices(CONTENT_SUBTYPES))
    .addOption(new Option('--engine <engine>', 'OCR: another engine for the document').choices(OCR_ENGINES))
    .addOption(
      new Option(
        '--speech-engine <engine>',
        'transcription: another speech engine (`default`: back to the server’s own)',
      ).choices([...SPEECH_ENGINES, 'default']),
    )
    .action(
      clientAction(async (context, jobId: string, options: RetryOptions) => {
        const job = await context.client.retry(jobId, {
          language: options.language,
          content_subtype: options.subtype,
          ocr_engine: options.engine,
          ...(options.speechEngine === undefined
            ? {}
            : { transcription_engine: options.speechEngine === 'default' ? null : options.speechEngine }),
        });
        if (context.json) context.printJson(job);
        else context.print(`${formatJobLine(job)}\n`);
        return EXIT_CODES.ok;
      }),
    );
}
