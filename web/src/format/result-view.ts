import type { WebJob } from '../api/contract.js';

/** One page of an OCR result, as the viewer shows it. */
export interface ViewedPage {
  page: number;
  text: string;
  /** Listed in the job's `quality.low_confidence_pages`. */
  low: boolean;
}

/** One passage of a transcript, with its time. */
export interface ViewedSegment {
  start: number;
  end: number;
  text: string;
  /** Marked `low_confidence` in the JSON result. */
  low: boolean;
}

export type ResultView =
  | { kind: 'pages'; pages: ViewedPage[] }
  | { kind: 'segments'; segments: ViewedSegment[] }
  | { kind: 'text' };

const isRecord = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

/**
 * How the viewer lays out a result, from the job's JSON output: a document page by page (its
 * low-confidence pages marked), a recording passage by passage with times (its low-confidence
 * passages marked). Anything it cannot read is shown as the plain text.
 */
export function resultViewOf(job: WebJob, json: unknown): ResultView {
  if (!isRecord(json)) return { kind: 'text' };
  if (job.job_type === 'OCR' && Array.isArray(json.pages)) {
    const low = new Set(job.quality?.low_confidence_pages ?? []);
    const pages: ViewedPage[] = [];
    for (const page of json.pages) {
      if (!isRecord(page) || typeof page.page !== 'number' || typeof page.text !== 'string') {
        return { kind: 'text' };
      }
      pages.push({ page: page.page, text: page.text.trim(), low: low.has(page.page) });
    }
    return pages.length > 0 ? { kind: 'pages', pages } : { kind: 'text' };
  }
  if (job.job_type === 'TRANSCRIPTION' && Array.isArray(json.segments)) {
    const segments: ViewedSegment[] = [];
    for (const segment of json.segments) {
      if (
        !isRecord(segment) ||
        typeof segment.start !== 'number' ||
        typeof segment.end !== 'number' ||
        typeof segment.text !== 'string'
      ) {
        return { kind: 'text' };
      }
      segments.push({
        start: segment.start,
        end: segment.end,
        text: segment.text,
        low: segment.low_confidence === true,
      });
    }
    return segments.length > 0 ? { kind: 'segments', segments } : { kind: 'text' };
  }
  return { kind: 'text' };
}
