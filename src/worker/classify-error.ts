import { AppError } from '../contract/index.js';
import { ChildProcessError } from '../process/run-child-process.js';
import { ObjectTooLargeError } from '../storage/object-storage.js';

/** Turns anything a pipeline throws into a catalog error, by type, never by message text. */
export function classifyError(error: unknown): AppError {
  if (error instanceof AppError) return error;
  if (error instanceof ChildProcessError) {
    switch (error.kind) {
      case 'missing':
        return new AppError('ENGINE_UNAVAILABLE', `${error.command} is not installed on this worker.`, {
          cause: error,
        });
      case 'timeout':
        return new AppError('PROCESSING_TIMEOUT', undefined, { cause: error });
      case 'aborted':
        return new AppError('JOB_CANCELLED', undefined, { cause: error });
      case 'exit':
        return new AppError('INTERNAL_ERROR', `${error.command} failed.`, { cause: error });
    }
  }
  if (error instanceof ObjectTooLargeError)
    return new AppError('UPLOAD_TOO_LARGE', undefined, { cause: error });
  const code = (error as NodeJS.ErrnoException | undefined)?.code;
  if (code === 'ENOSPC' || code === 'EIO' || code === 'EMFILE') {
    return new AppError('STORAGE_UNAVAILABLE', undefined, { cause: error });
  }
  return new AppError('INTERNAL_ERROR', undefined, { cause: error });
}
