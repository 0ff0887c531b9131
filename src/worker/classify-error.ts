import { AppError } from '../contract/index.js';
import { toolFailure } from '../process/tool-failure.js';
import { ObjectTooLargeError } from '../storage/object-storage.js';

/** Turns anything a pipeline throws into a catalog error, by type, never by message text. */
export function classifyError(error: unknown): AppError {
  const mapped = toolFailure(error, 'INTERNAL_ERROR');
  if (mapped instanceof AppError) return mapped;
  if (error instanceof ObjectTooLargeError)
    return new AppError('UPLOAD_TOO_LARGE', undefined, { cause: error });
  const code = (error as NodeJS.ErrnoException | undefined)?.code;
  if (code === 'ENOSPC' || code === 'EIO' || code === 'EMFILE') {
    return new AppError('STORAGE_UNAVAILABLE', undefined, { cause: error });
  }
  return new AppError('INTERNAL_ERROR', undefined, { cause: error });
}
