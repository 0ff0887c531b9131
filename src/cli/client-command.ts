import type { Command } from 'commander';
import { ApiError, ServerUnreachableError } from '../client/api-error.js';
import { DocTranscribeClient } from '../client/doc-transcribe-client.js';
import { ClientConfigError, loadClientConfig } from '../config/index.js';
import { EXIT_CODES, type ExitCode, UsageError } from './exit-codes.js';

/** Options every client command takes (declared once on the program). */
export interface GlobalClientOptions {
  server?: string;
  apiKey?: string;
  json?: boolean;
  verbose?: boolean;
}

export interface ClientCommandContext {
  client: DocTranscribeClient;
  json: boolean;
  verbose: boolean;
  /** Human output (stdout). */
  print(text: string): void;
  /** The one JSON document of `--json` (stdout). */
  printJson(value: unknown): void;
  /** Notes and errors (stderr). */
  warn(text: string): void;
}

/** A refused request as people read it: `CODE: message (request id …)`. */
export function describeError(error: unknown): string {
  if (error instanceof ApiError) return error.message;
  if (error instanceof Error) return error.message;
  return String(error);
}

/** The exit code a failure stands for. */
export function exitCodeOf(error: unknown): ExitCode {
  if (error instanceof ServerUnreachableError) return EXIT_CODES.unreachable;
  if (error instanceof ApiError) return error.isAuthRefusal ? EXIT_CODES.authRefused : EXIT_CODES.failed;
  if (error instanceof ClientConfigError || error instanceof UsageError) return EXIT_CODES.usage;
  return EXIT_CODES.failed;
}

export function errorJson(error: unknown): Record<string, unknown> {
  if (error instanceof ApiError) {
    return { code: error.code, message: error.detail, status: error.status, request_id: error.requestId };
  }
  if (error instanceof ServerUnreachableError) return { code: 'SERVER_UNREACHABLE', message: error.message };
  if (error instanceof ClientConfigError || error instanceof UsageError) {
    return { code: 'USAGE', message: error.message };
  }
  return { code: 'CLIENT_ERROR', message: describeError(error) };
}

/**
 * Wraps a command's work: builds the client from flags and environment, runs, and turns every
 * failure into its message (stderr, and `{"error": …}` on stdout with `--json`) and exit code.
 */
export function clientAction<Args extends unknown[]>(
  run: (context: ClientCommandContext, ...args: Args) => Promise<ExitCode>,
): (...args: unknown[]) => Promise<void> {
  return async (...args: unknown[]) => {
    const command = args[args.length - 1] as Command;
    const globals = command.optsWithGlobals<GlobalClientOptions>();
    const json = globals.json === true;
    const verbose = globals.verbose === true;
    const context: Omit<ClientCommandContext, 'client'> = {
      json,
      verbose,
      print: (text) => void process.stdout.write(text),
      printJson: (value) => void process.stdout.write(`${JSON.stringify(value, null, 2)}\n`),
      warn: (text) => void process.stderr.write(text),
    };
    let code: ExitCode;
    try {
      const config = loadClientConfig(process.env, { server: globals.server, apiKey: globals.apiKey });
      const client = new DocTranscribeClient(config, {
        ...(verbose
          ? {
              onResponse: (info) =>
                context.warn(
                  `${info.method} ${info.path} → ${info.status} (request id ${info.requestId ?? '-'})\n`,
                ),
            }
          : {}),
      });
      code = await run({ ...context, client }, ...(args.slice(0, -1) as Args));
    } catch (error) {
      context.warn(`doc-transcribe: ${describeError(error)}\n`);
      if (json) context.printJson({ error: errorJson(error) });
      code = exitCodeOf(error);
    }
    process.exitCode = code;
  };
}
