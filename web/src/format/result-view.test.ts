import { describe, expect, it } from 'vitest';
import { fakeJob } from '../testing/fake-job.js';
import { formatClock } from './format-numbers.js';
import { resultViewOf } from './result-view.js';

describe('the result viewer layout', () => {
  it('shows a document page by page, with its low-confidence pages marked', () => {
    const job = fakeJob({ status: 'COMPLETED', quality: { score: 0.7, low_confidence_pages: [2] } });
    const json = {
      page_count: 2,
      pages: [
        { page: 1, source: 'text_layer', text: 'The archive\n', confidence: null },
        { page: 2, source: 'ocr', text: 'यह पुस्तक', confidence: 0.4 },
      ],
    };
    expect(resultViewOf(job, json)).toEqual({
      kind: 'pages',
      pages: [
        { page: 1, text: 'The archive', low: false },
        { page: 2, text: 'यह पुस्तक', low: true },
      ],
    });
  });

  it('shows a transcript passage by passage with times, its low-confidence passages marked', () => {
    const job = fakeJob({ job_type: 'TRANSCRIPTION', status: 'COMPLETED' });
    const json = {
      media_duration_sec: 70,
      segments: [
        { start: 0, end: 4.5, text: 'the quick brown fox', chunk: 0, confidence: 0.9 },
        { start: 65, end: 70, text: 'fox fox fox', chunk: 1, low_confidence: true, reasons: ['repetition'] },
      ],
    };
    expect(resultViewOf(job, json)).toEqual({
      kind: 'segments',
      segments: [
        { start: 0, end: 4.5, text: 'the quick brown fox', low: false },
        { start: 65, end: 70, text: 'fox fox fox', low: true },
      ],
    });
    expect(formatClock(65, 'en')).toBe('1:05');
    expect(formatClock(3725.9, 'en')).toBe('1:02:05');
    expect(formatClock(5, 'hi-IN')).toBe('0:05');
  });

  it('falls back to the plain text for a result it cannot read', () => {
    const job = fakeJob({ status: 'COMPLETED' });
    expect(resultViewOf(job, null)).toEqual({ kind: 'text' });
    expect(resultViewOf(job, { pages: [{ page: 'one' }] })).toEqual({ kind: 'text' });
    expect(resultViewOf(job, { pages: [] })).toEqual({ kind: 'text' });
    expect(resultViewOf(fakeJob({ job_type: 'TRANSCRIPTION' }), { pages: [] })).toEqual({ kind: 'text' });
  });
});
