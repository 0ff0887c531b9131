import { ReplyError } from 'ioredis';
import { MaxRetriesPerRequestError } from 'ioredis/built/errors/index.js';
import { CONNECTION_CLOSED_ERROR_MSG } from 'ioredis/built/utils/index.js';
import { AppError } from '../contract/index.js';
import { toolFailure } from '../process/tool-failure.js';
import { ObjectTooLargeError } from '../storage/object-storage.js';

/** Local disk failures: full, broken, out of file handles, read-only, over quota. */
const STORAGE_ERRNOS = new Set(['ENOSPC', 'EIO', 'EMFILE', 'EROFS', 'EDQUOT']);

/** A peer that could not be reached or dropped the connection: another attempt may find it back. */
const NETWORK_ERRNOS = new Set([
  'ECONNRESET',
  'ECONNREFUSED',
  'ECONNABORTED',
  'ETIMEDOUT',
  'EPIPE',
  'EAI_AGAIN',
  'ENETUNREACH',
  'EHOSTUNREACH',
  // undici (fetch) names its socket failures itself.
  'UND_ERR_SOCKET',
  'UND_ERR_CONNECT_TIMEOUT',
]);

/** Redis error replies (their first word) that mean "not now" rather than a wrong command. */
const REDIS_BUSY_REPLIES = new Set([
  'LOADING',
  'BUSY',
  'TRYAGAIN',
  'CLUSTERDOWN',
  'MASTERDOWN',
  'READONLY',
  'OOM',
]);

/** Turns anything a pipeline throws into a catalog error, by type, never by message text. */
export function classifyError(error: unknown): AppError {
  const mapped = toolFailure(error, 'INTERNAL_ERROR');
  if (mapped instanceof AppError) return mapped;
  if (error instanceof ObjectTooLargeError)
    return new AppError('UPLOAD_TOO_LARGE', undefined, { cause: error });
  if (isRedisUnavailable(error)) return new AppError('DEPENDENCY_UNAVAILABLE', undefined, { cause: error });
  const code = errnoOf(error);
  if (code && STORAGE_ERRNOS.has(code))
    return new AppError('STORAGE_UNAVAILABLE', undefined, { cause: error });
  // Storage adapters wrap their own network failures (STORAGE_UNAVAILABLE) and Redis fails with
  // ioredis errors, so a bare network errno here comes from an engine's request.
  if (code && NETWORK_ERRNOS.has(code))
    return new AppError('ENGINE_UNAVAILABLE', undefined, { cause: error });
  return new AppError('INTERNAL_ERROR', undefined, { cause: error });
}

function isRedisUnavailable(error: unknown): boolean {
  if (error instanceof MaxRetriesPerRequestError) return true;
  if (error instanceof ReplyError) {
    const prefix = (error as Error).message.split(' ', 1)[0] ?? '';
    return REDIS_BUSY_REPLIES.has(prefix);
  }
  // ioredis rejects commands on a closed connection with a plain Error carrying this exported
  // constant (it has no class of its own); ioredis itself tells them apart the same way.
  return (
    error instanceof Error && error.constructor === Error && error.message === CONNECTION_CLOSED_ERROR_MSG
  );
}

/** The errno of the error or of one of its causes (fetch wraps the socket's error as `cause`). */
function errnoOf(error: unknown): string | undefined {
  let current: unknown = error;
  for (let depth = 0; depth < 5 && current instanceof Error; depth++) {
    const code = (current as NodeJS.ErrnoException).code;
    if (typeof code === 'string') return code;
    current = current.cause;
  }
  return undefined;
}
