import { AppError, isAppError } from '../contract/index.js';
import type { Pipeline } from './pipeline.js';

/** Whatever a killed child process reported, a pipeline whose job was cancelled ends as cancelled. */
export function stopOnCancel(pipeline: Pipeline): Pipeline {
  return async (input, context) => {
    try {
      return await pipeline(input, context);
    } catch (error) {
      if (context.signal.aborted && !(isAppError(error) && error.code === 'JOB_CANCELLED')) {
        throw new AppError('JOB_CANCELLED', undefined, { cause: error });
      }
      throw error;
    }
  };
}
