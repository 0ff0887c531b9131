import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { AppError, ERROR_CATALOG, type ErrorCode, type Problem } from '../contract/index.js';
import { errorFields } from '../observability/logger.js';
import { wwwAuthenticateFor } from './auth/www-authenticate.js';

const PROBLEM_TYPE_BASE = 'https://doc-transcribe.dev/problems/';

export function problemFor(error: AppError, requestId: string, instance?: string): Problem {
  const entry = ERROR_CATALOG[error.code];
  const problem: Problem = {
    type: `${PROBLEM_TYPE_BASE}${error.code.toLowerCase().replaceAll('_', '-')}`,
    title: entry.title,
    status: entry.status,
    detail: error.message,
    error_code: error.code,
    request_id: requestId,
    retryable: entry.retryable,
    message_hi: entry.message.hi,
  };
  if (instance) problem.instance = instance;
  const fieldErrors = error.details?.errors;
  if (Array.isArray(fieldErrors)) problem.errors = fieldErrors as Problem['errors'];
  return problem;
}

/** Fastify's own errors (body parsing, multipart limits, …) mapped to catalog codes by their code. */
const FASTIFY_CODES: Record<string, ErrorCode> = {
  FST_ERR_CTP_INVALID_MEDIA_TYPE: 'REQUEST_BODY_INVALID',
  FST_ERR_CTP_EMPTY_JSON_BODY: 'REQUEST_BODY_INVALID',
  FST_ERR_CTP_INVALID_JSON_BODY: 'REQUEST_BODY_INVALID',
  FST_ERR_CTP_BODY_TOO_LARGE: 'FILE_TOO_LARGE',
  FST_INVALID_MULTIPART_CONTENT_TYPE: 'REQUEST_BODY_INVALID',
  FST_REQ_FILE_TOO_LARGE: 'FILE_TOO_LARGE',
  FST_FILES_LIMIT: 'VALIDATION_FAILED',
  FST_FIELDS_LIMIT: 'VALIDATION_FAILED',
  FST_PARTS_LIMIT: 'VALIDATION_FAILED',
  FST_PROTO_VIOLATION: 'REQUEST_BODY_INVALID',
  FST_ERR_VALIDATION: 'VALIDATION_FAILED',
};

/** File-system failures of local storage (full, read-only, not a directory, no permission). */
const STORAGE_ERROR_CODES = new Set(['ENOSPC', 'EROFS', 'ENOTDIR', 'EACCES', 'EPERM', 'EDQUOT', 'EIO']);

/** Seconds a client should wait before retrying a 503 or 429. */
const RETRY_AFTER_SEC = 5;

export function toAppError(error: unknown, isDependencyDown: () => boolean = () => false): AppError {
  if (error instanceof AppError) return error;
  // A failure while Redis is unreachable is the outage, whatever the failing call said.
  if (isDependencyDown()) return new AppError('DEPENDENCY_UNAVAILABLE', undefined, { cause: error });
  const code = (error as FastifyError | undefined)?.code;
  // Redis at `maxmemory` with noeviction refuses writes: the queue cannot take work (docs/runbooks.md).
  if (error instanceof Error && error.message.startsWith('OOM ')) {
    return new AppError('QUEUE_UNAVAILABLE', undefined, { cause: error });
  }
  if (code && STORAGE_ERROR_CODES.has(code))
    return new AppError('STORAGE_UNAVAILABLE', undefined, { cause: error });
  const mapped = code ? FASTIFY_CODES[code] : undefined;
  if (mapped) return new AppError(mapped, ERROR_CATALOG[mapped].message.en, { cause: error });
  // Malformed multipart bodies surface from busboy as plain errors with a 4xx statusCode, or
  // none at all for a missing or over-long boundary (found by test/e2e/upload-fuzz.test.ts).
  const status = (error as FastifyError | undefined)?.statusCode;
  if ((status && status >= 400 && status < 500) || isMultipartParserError(error))
    return new AppError('REQUEST_BODY_INVALID', undefined, { cause: error });
  return new AppError('INTERNAL_ERROR', undefined, { cause: error });
}

const MULTIPART_PARSER_MESSAGES = [
  /^Multipart: Boundary not found$/,
  /^The needle cannot/,
  /^Unexpected end of multipart data$/,
  /terminated early due to unexpected end of multipart data$/,
];

function isMultipartParserError(error: unknown): boolean {
  return error instanceof Error && MULTIPART_PARSER_MESSAGES.some((pattern) => pattern.test(error.message));
}

export function sendProblem(reply: FastifyReply, request: FastifyRequest, error: AppError): FastifyReply {
  const problem = problemFor(error, request.id, request.url.split('?')[0]);
  // A rate limit or quota knows how long is left in its window; everything else says 5 s.
  const retryAfter = error.details?.retry_after_sec;
  if (typeof retryAfter === 'number') reply.header('retry-after', retryAfter);
  else if ((problem.status === 503 || problem.status === 429) && !reply.hasHeader('retry-after')) {
    reply.header('retry-after', RETRY_AFTER_SEC);
  }
  const challenge = wwwAuthenticateFor(error.code, problem.status);
  if (challenge) reply.header('www-authenticate', challenge);
  // Refused before its body was read to the end (too large, wrong type, key in use): close the
  // connection rather than keep a half-sent upload open, which would also hold up a shutdown.
  if (!request.raw.complete) reply.header('connection', 'close');
  return reply.code(problem.status).type('application/problem+json; charset=utf-8').send(problem);
}

/** One place that turns every failure into RFC 9457 problem+json with a catalog code. */
export function registerProblemHandlers(
  app: FastifyInstance,
  options: { isDependencyDown: () => boolean },
): void {
  app.setErrorHandler((error, request, reply) => {
    const appError = toAppError(error, options.isDependencyDown);
    const log = { event: 'http.error', error_code: appError.code, ...errorFields(error) };
    if (appError.httpStatus >= 500) request.log.error(log, 'request failed');
    else request.log.info(log, 'request rejected');
    return sendProblem(reply, request, appError);
  });
  app.setNotFoundHandler((request, reply) => sendProblem(reply, request, new AppError('ROUTE_NOT_FOUND')));
}
