import { ApiError } from '@google/genai';
import { describe, expect, it } from 'vitest';
import { ERROR_CATALOG } from '../contract/index.js';
import { classifyGeminiError, type GeminiErrorCodes } from './gemini-client.js';

const CODES: GeminiErrorCodes = {
  refusedKey: 'ENGINE_UNAVAILABLE',
  serverError: 'ENGINE_UPSTREAM_ERROR',
  unreachable: 'ENGINE_UNAVAILABLE',
};

function answered(status: number) {
  const error = classifyGeminiError(new ApiError({ status, message: `status ${status}` }), undefined, CODES);
  return { code: error.code, errorClass: ERROR_CATALOG[error.code].errorClass };
}

describe('classifyGeminiError', () => {
  it.each([400, 404, 413, 422])('refuses a %i for good: ENGINE_REQUEST_REFUSED, class input', (status) => {
    expect(answered(status)).toEqual({ code: 'ENGINE_REQUEST_REFUSED', errorClass: 'input' });
  });

  it.each([408, 500, 503])('keeps a %i transient with the engine’s server-error code', (status) => {
    expect(answered(status)).toEqual({ code: 'ENGINE_UPSTREAM_ERROR', errorClass: 'transient' });
  });

  it('makes a 429 a rate limit and a 401/403 the engine’s refused-key code', () => {
    expect(answered(429)).toEqual({ code: 'ENGINE_RATE_LIMITED', errorClass: 'rate_limit' });
    expect(answered(401).code).toBe('ENGINE_UNAVAILABLE');
    expect(answered(403).code).toBe('ENGINE_UNAVAILABLE');
  });

  it('gives no HTTP answer the unreachable code, and a cancelled request JOB_CANCELLED', () => {
    expect(classifyGeminiError(new TypeError('fetch failed'), undefined, CODES).code).toBe(
      'ENGINE_UNAVAILABLE',
    );
    const controller = new AbortController();
    controller.abort();
    expect(classifyGeminiError(new Error('aborted'), controller.signal, CODES).code).toBe('JOB_CANCELLED');
  });
});
