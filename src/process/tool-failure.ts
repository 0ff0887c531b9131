import { AppError, type ErrorCode } from '../contract/index.js';
import { ChildProcessError } from './run-child-process.js';

/**
 * Turns a failed external tool run (ffmpeg, tesseract, …) into a catalog error by its kind; `onExit` is the code for a
 * tool that ran and refused the file. Anything that is not a child-process failure passes through.
 */
export function toolFailure(error: unknown, onExit: ErrorCode): unknown {
  if (!(error instanceof ChildProcessError)) return error;
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
      return new AppError(onExit, undefined, { cause: error, details: { tool: error.command } });
  }
}
