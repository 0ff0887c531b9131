import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { AppError } from './app-error.js';
import { ERROR_CATALOG, ERROR_CODES } from './error-catalog.js';
import { renderErrorDocs } from './render-error-docs.js';

describe('error catalog', () => {
  it.each(ERROR_CODES)('%s has a status, a class and messages in English and Hindi', (code) => {
    const entry = ERROR_CATALOG[code];
    expect(code).toMatch(/^[A-Z][A-Z0-9_]+$/);
    expect(entry.status).toBeGreaterThanOrEqual(400);
    expect(entry.status).toBeLessThan(600);
    expect(entry.title.length).toBeGreaterThan(0);
    expect(entry.message.en.length).toBeGreaterThan(0);
    // Devanagari block: the Hindi message really is Hindi.
    expect(entry.message.hi).toMatch(/[\u0900-\u097f]/);
  });

  it('marks only transient, rate-limit and timeout errors as retryable', () => {
    for (const code of ERROR_CODES) {
      const { retryable, errorClass } = ERROR_CATALOG[code];
      expect(retryable).toBe(['transient', 'rate_limit', 'timeout'].includes(errorClass));
    }
  });

  it('is documented in docs/errors.md exactly as generated (run `npm run docs:errors`)', () => {
    const doc = readFileSync(new URL('../../docs/errors.md', import.meta.url), 'utf8');
    expect(doc).toBe(renderErrorDocs());
  });

  it('gives AppError the status and retryability of its code', () => {
    const error = new AppError('QUEUE_UNAVAILABLE');
    expect(error.httpStatus).toBe(503);
    expect(error.retryable).toBe(true);
    expect(error.message).toBe(ERROR_CATALOG.QUEUE_UNAVAILABLE.message.en);
  });
});
