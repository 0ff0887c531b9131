import { describe, expect, it } from 'vitest';
import { pageTimeoutMs, REFERENCE_PAGE_PIXELS } from './page-timeout.js';

describe('page timeout', () => {
  it('gives an A4 page at 300 dpi the configured seconds', () => {
    expect(pageTimeoutMs(REFERENCE_PAGE_PIXELS, 180)).toBe(180_000);
  });

  it('grows and shrinks with the page, never below a quarter', () => {
    expect(pageTimeoutMs(REFERENCE_PAGE_PIXELS * 4, 180)).toBe(720_000);
    expect(pageTimeoutMs(REFERENCE_PAGE_PIXELS / 2, 180)).toBe(90_000);
    expect(pageTimeoutMs(1000, 180)).toBe(45_000);
  });

  it('gives a page of unknown size the configured seconds', () => {
    expect(pageTimeoutMs(null, 60)).toBe(60_000);
  });
});
