import { z } from 'zod';
import { AppError } from '../../contract/index.js';
import { JOB_ID_PATTERN } from '../../jobs/new-job-id.js';

const jobParamsSchema = z.object({ id: z.string() });

/** Parses request input with a contract schema; every problem is listed in one VALIDATION_FAILED. */
export function parseOrThrow<T>(schema: z.ZodType<T>, value: unknown): T {
  const parsed = schema.safeParse(value);
  if (parsed.success) return parsed.data;
  const errors = parsed.error.issues.map((issue) => ({
    field: issue.path.join('.'),
    message: issue.message,
  }));
  throw new AppError('VALIDATION_FAILED', errors.map((e) => `${e.field}: ${e.message}`).join('; '), {
    details: { errors },
  });
}

/** A malformed id cannot exist: answer 404 exactly as for someone else's job. */
export function jobIdOf(params: unknown): string {
  const { id } = parseOrThrow(jobParamsSchema, params);
  if (!JOB_ID_PATTERN.test(id)) throw new AppError('JOB_NOT_FOUND');
  return id;
}
