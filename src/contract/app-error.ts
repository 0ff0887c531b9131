import { ERROR_CATALOG, type ErrorCode } from './error-catalog.js';

/** An error that carries a catalog code; everything the service reports is one of these. */
export class AppError extends Error {
  readonly code: ErrorCode;
  /** Extra, non-secret facts for the response body or the logs (e.g. installed languages). */
  readonly details: Record<string, unknown> | undefined;

  constructor(
    code: ErrorCode,
    detail?: string,
    options?: { cause?: unknown; details?: Record<string, unknown> },
  ) {
    super(
      detail ?? ERROR_CATALOG[code].message.en,
      options?.cause === undefined ? {} : { cause: options.cause },
    );
    this.name = 'AppError';
    this.code = code;
    this.details = options?.details;
  }

  get retryable(): boolean {
    return ERROR_CATALOG[this.code].retryable;
  }

  get httpStatus(): number {
    return ERROR_CATALOG[this.code].status;
  }
}

export function isAppError(error: unknown): error is AppError {
  return error instanceof AppError;
}
