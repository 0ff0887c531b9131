import { expect } from 'vitest';
import { AppError, type ErrorCode } from '../../src/contract/index.js';

/** The catalog code a promise rejects with (asserting it is an AppError), or `resolved`. */
export async function codeOf(promise: Promise<unknown>): Promise<ErrorCode | 'resolved'> {
  const outcome = await promise.then(
    () => 'resolved' as const,
    (error: unknown) => error,
  );
  if (outcome === 'resolved') return outcome;
  expect(outcome).toBeInstanceOf(AppError);
  return (outcome as AppError).code;
}
