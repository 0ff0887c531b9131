import { describe, expect, it } from 'vitest';
import { formatMediaClock } from './format-media-clock.js';

describe('formatMediaClock', () => {
  it('shows minutes and seconds below an hour', () => {
    expect(formatMediaClock(70.9)).toBe('01:10');
    expect(formatMediaClock(0)).toBe('00:00');
  });

  it('adds hours from an hour on', () => {
    expect(formatMediaClock(3 * 3600 + 62)).toBe('3:01:02');
  });
});
