import type { JobQuality } from '../../../src/contract/job.js';
import { formatClock } from './format-numbers.js';

export type QualityLevel = 'good' | 'fair' | 'poor' | 'unknown';

/** Thresholds on the engine's mean confidence (0–1). */
export function qualityLevel(quality: JobQuality | null): QualityLevel {
  const score = quality?.score;
  if (score === null || score === undefined) return 'unknown';
  const flagged =
    (quality?.low_confidence_pages?.length ?? 0) + (quality?.low_confidence_segments?.length ?? 0);
  if (score >= 0.85 && flagged === 0) return 'good';
  if (score >= 0.6) return 'fair';
  return 'poor';
}

/** "3, 7–9, 12": consecutive pages joined into ranges. */
export function formatPageList(pages: readonly number[], locale: string): string {
  const sorted = [...new Set(pages)].sort((a, b) => a - b);
  const number = new Intl.NumberFormat(locale);
  const ranges: string[] = [];
  let start = sorted[0];
  let end = start;
  for (const page of [...sorted.slice(1), Number.NaN]) {
    if (start === undefined || end === undefined) break;
    if (page === end + 1) {
      end = page;
      continue;
    }
    ranges.push(start === end ? number.format(start) : `${number.format(start)}–${number.format(end)}`);
    start = page;
    end = page;
  }
  return ranges.join(', ');
}

/** "0:05–0:12, 1:02:05–1:02:11": passages of a recording as clock ranges, in order. */
export function formatSegmentList(
  segments: readonly { start_sec: number; end_sec: number }[],
  locale: string,
): string {
  return [...segments]
    .sort((a, b) => a.start_sec - b.start_sec)
    .map((segment) => `${formatClock(segment.start_sec, locale)}–${formatClock(segment.end_sec, locale)}`)
    .join(', ');
}
