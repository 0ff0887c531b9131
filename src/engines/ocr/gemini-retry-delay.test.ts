import { describe, expect, it } from 'vitest';
import { geminiRetryDelayMs } from './gemini-retry-delay.js';

describe('geminiRetryDelayMs', () => {
  it('reads the RetryInfo delay of a 429 body', () => {
    const body = JSON.stringify({
      error: {
        code: 429,
        status: 'RESOURCE_EXHAUSTED',
        details: [
          { '@type': 'type.googleapis.com/google.rpc.QuotaFailure', violations: [] },
          { '@type': 'type.googleapis.com/google.rpc.RetryInfo', retryDelay: '23.5s' },
        ],
      },
    });
    expect(geminiRetryDelayMs(body)).toBe(23_500);
  });

  it('gives nothing for a body without RetryInfo or not in JSON', () => {
    expect(geminiRetryDelayMs(JSON.stringify({ error: { code: 429 } }))).toBeUndefined();
    expect(geminiRetryDelayMs('<html>busy</html>')).toBeUndefined();
  });
});
