/** The `doc-transcribe` client commands' exit codes (docs/cli.md lists them for scripts). */
export const EXIT_CODES = {
  /** Everything asked for succeeded. */
  ok: 0,
  /** The request was refused, or every file of a submit failed. */
  failed: 1,
  /** Bad flags or client configuration: nothing was sent. */
  usage: 2,
  /** Some files of a submit succeeded and some failed. */
  partial: 3,
  /** The server could not be reached (connection refused, DNS, timeout). */
  unreachable: 4,
  /** The server refused the credentials (401) or the caller may not do this (403). */
  authRefused: 5,
} as const;
export type ExitCode = (typeof EXIT_CODES)[keyof typeof EXIT_CODES];

/** A mistake in what the command was asked to do (paths, state file): exit code 2, nothing sent. */
export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}
