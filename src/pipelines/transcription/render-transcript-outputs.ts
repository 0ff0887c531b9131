import { formatMediaClock } from '../../media/format-media-clock.js';
import type { SegmentScore } from './assess-transcript-quality.js';
import { renderSrt, renderVtt } from './subtitle-formats.js';
import type { TranscriptSegment } from './transcript-segment.js';

export interface TranscriptOutputs {
  txt: string;
  srt: string;
  vtt: string;
  json: string;
}

export interface RenderOptions {
  mediaDurationSec: number;
  /** Start each paragraph of the text output with its time, `[01:10]`. */
  txtTimestamps?: boolean;
  engine?: string;
  language?: string;
  /** Per-segment scores, in the order of the segments. */
  scores?: readonly SegmentScore[];
  lowConfidenceScore?: number;
}

/** A pause this long, or a paragraph this long, starts a new paragraph in the text output. */
const PARAGRAPH_PAUSE_SEC = 2;
const PARAGRAPH_MAX_WORDS = 120;

const roundMs = (seconds: number) => Math.round(seconds * 1000) / 1000;

function paragraphs(segments: readonly TranscriptSegment[], timestamps: boolean): string {
  const out: string[] = [];
  let current: string[] = [];
  let words = 0;
  let startedAt = 0;
  let previousEnd = Number.NEGATIVE_INFINITY;
  const flush = () => {
    if (current.length === 0) return;
    const text = current.join(' ');
    out.push(timestamps ? `[${formatMediaClock(startedAt)}] ${text}` : text);
    current = [];
    words = 0;
  };
  for (const segment of segments) {
    if (segment.start - previousEnd >= PARAGRAPH_PAUSE_SEC || words >= PARAGRAPH_MAX_WORDS) flush();
    if (current.length === 0) startedAt = segment.start;
    const text = segment.text.replace(/\s+/g, ' ').trim();
    current.push(text);
    words += text.split(' ').length;
    previousEnd = segment.end;
  }
  flush();
  return out.length > 0 ? `${out.join('\n\n')}\n` : '';
}

/** Every download format of a transcript: text in paragraphs, SRT, WebVTT and JSON segments; all UTF-8. */
export function renderTranscriptOutputs(
  segments: readonly TranscriptSegment[],
  options: RenderOptions,
): TranscriptOutputs {
  const spokenIndexes = segments.map((_, i) => i).filter((i) => (segments[i]?.text.trim().length ?? 0) > 0);
  const spoken = spokenIndexes.map((i) => segments[i] as TranscriptSegment);
  const low = options.lowConfidenceScore ?? 0.5;
  return {
    txt: paragraphs(spoken, options.txtTimestamps ?? false),
    srt: renderSrt(spoken),
    vtt: renderVtt(spoken),
    json: JSON.stringify(
      {
        media_duration_sec: roundMs(options.mediaDurationSec),
        ...(options.engine ? { engine: options.engine } : {}),
        ...(options.language ? { language: options.language } : {}),
        segments: spokenIndexes.map((i) => {
          const segment = segments[i] as TranscriptSegment;
          const scored = options.scores?.[i];
          return {
            start: roundMs(segment.start),
            end: roundMs(segment.end),
            text: segment.text.replace(/\s+/g, ' ').trim(),
            chunk: segment.chunk,
            confidence: segment.confidence ?? null,
            ...(scored
              ? {
                  score: scored.score,
                  low_confidence: scored.score < low || scored.reasons.includes('repetition'),
                  reasons: scored.reasons,
                }
              : {}),
          };
        }),
      },
      null,
      2,
    ),
  };
}
