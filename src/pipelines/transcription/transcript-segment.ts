import type { Segment } from '../../engines/speech/speech-engine.js';

/** Why a segment is not to be trusted; stable names, shown in the JSON output and the job's quality. */
export type LowConfidenceReason =
  | 'engine_confidence'
  | 'repetition'
  | 'speech_rate'
  | 'script_mismatch'
  | 'empty_output'
  | 'noise_or_music';

/** A segment of the finished transcript: times from the start of the recording. */
export interface TranscriptSegment extends Segment {
  /** Index of the chunk the segment came from. */
  chunk: number;
  /** Set when a runaway repetition loop was collapsed in this segment. */
  repetitionCollapsed?: boolean;
}

const PUNCTUATION = /[\p{P}\p{S}]+/gu;

/** Lower-case, without punctuation: how words are compared at seams and in repetition loops. */
export function normaliseToken(token: string): string {
  return token.toLowerCase().replace(PUNCTUATION, '');
}

export function tokensOf(text: string): string[] {
  return text.split(/\s+/).filter((token) => token.length > 0);
}
