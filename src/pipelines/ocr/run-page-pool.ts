import { AppError } from '../../contract/index.js';

/**
 * Runs `task` for every item with at most `concurrency` in flight, in item order. The first
 * failure stops handing out items and is thrown once running tasks have settled; cancel is
 * checked before each item.
 */
export async function runPagePool<T>(
  items: readonly T[],
  concurrency: number,
  signal: AbortSignal,
  task: (item: T) => Promise<void>,
): Promise<void> {
  let next = 0;
  let failure: { error: unknown } | undefined;
  const lane = async () => {
    while (!failure && next < items.length) {
      if (signal.aborted) {
        failure ??= { error: new AppError('JOB_CANCELLED') };
        return;
      }
      const item = items[next++] as T;
      try {
        await task(item);
      } catch (error) {
        failure ??= { error };
      }
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(concurrency, items.length)) }, lane));
  if (failure) throw failure.error;
}
