import { ERROR_CATALOG, isErrorCode } from './contract.js';

/** The fields of a problem+json body the page relies on; codes unknown to this build are kept. */
export interface ProblemBody {
  status: number;
  title?: string;
  detail?: string;
  error_code?: string;
  request_id?: string;
  retryable?: boolean;
  message_hi?: string;
}

/**
 * Why a request failed: no answer at all (network), a refusal the server explained
 * (problem+json), or an answer the page cannot read (http).
 */
export type ApiFailure =
  | { kind: 'network' }
  | { kind: 'problem'; status: number; problem: ProblemBody }
  | { kind: 'http'; status: number };

export class ApiError extends Error {
  readonly failure: ApiFailure;

  constructor(failure: ApiFailure) {
    super(
      failure.kind === 'network'
        ? 'network error'
        : failure.kind === 'problem'
          ? `${failure.status} ${failure.problem.error_code ?? ''}`.trim()
          : `HTTP ${failure.status}`,
    );
    this.name = 'ApiError';
    this.failure = failure;
  }
}

export function isApiError(error: unknown): error is ApiError {
  return error instanceof ApiError;
}

export function failureOf(error: unknown): ApiFailure {
  return isApiError(error) ? error.failure : { kind: 'network' };
}

/** Whether sending the same request again later may succeed. */
export function isRetryableFailure(failure: ApiFailure): boolean {
  switch (failure.kind) {
    case 'network':
      return true;
    case 'problem': {
      const code = failure.problem.error_code;
      if (code === 'IDEMPOTENCY_KEY_IN_USE') return true;
      if (failure.problem.retryable !== undefined) return failure.problem.retryable;
      if (code && isErrorCode(code)) return ERROR_CATALOG[code].retryable;
      return failure.status >= 500;
    }
    case 'http':
      return failure.status >= 500 || failure.status === 429;
  }
}

/** Reads a non-2xx answer into a failure; a body that is not problem+json becomes `http`. */
export function parseFailure(status: number, contentType: string | null, bodyText: string): ApiFailure {
  if (contentType?.includes('json')) {
    try {
      const body = JSON.parse(bodyText) as unknown;
      if (body && typeof body === 'object' && 'error_code' in body) {
        return { kind: 'problem', status, problem: { ...(body as ProblemBody), status } };
      }
    } catch {
      // Not JSON after all: reported as a bare HTTP failure below.
    }
  }
  return { kind: 'http', status };
}
