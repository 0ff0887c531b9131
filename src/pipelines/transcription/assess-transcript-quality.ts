import type { JobQuality } from '../../contract/index.js';
import type { Segment } from '../../engines/speech/speech-engine.js';
import { formatMediaClock } from '../../media/format-media-clock.js';
import type { LowConfidenceReason, TranscriptSegment } from './transcript-segment.js';
import { tokensOf } from './transcript-segment.js';

/** `eng` → `en`, `hin` → `hi`, `en-GB` → `en`; whatever Intl cannot read is compared as given. */
export function baseLanguage(tag: string): string {
  try {
    const [canonical] = Intl.getCanonicalLocales(tag);
    return canonical ? new Intl.Locale(canonical).language : tag.toLowerCase();
  } catch {
    return tag.toLowerCase();
  }
}

function languageName(code: string): string {
  try {
    return new Intl.DisplayNames(['en'], { type: 'language' }).of(code) ?? code;
  } catch {
    return code;
  }
}

/** Segments scoring below this are listed as low-confidence, with their time range. */
export const LOW_CONFIDENCE_SCORE = 0.5;
/** Score of a segment whose engine gives no confidence, before the heuristics lower it. */
const HEURISTIC_BASE_SCORE = 0.9;
/** Faster than ~6 words a second is not human speech: the engine invented text. */
const MAX_WORDS_PER_SEC = 6;
/** A long segment with almost no words: a hallucination over music or silence, or lost speech. */
const MIN_WORDS_PER_SEC = 0.2;
const MIN_SEC_FOR_SLOW_CHECK = 8;
/** Below this share of letters in the language's script, the text is probably in another language. */
const MIN_SCRIPT_SHARE = 0.7;
const SCORE_AFTER_REPETITION = 0.2;

const SCRIPTS: Record<string, RegExp> = {
  latin: /[A-Za-z\u00C0-\u024F]/u,
  devanagari: /[\u0900-\u097F]/u,
};
const LANGUAGE_SCRIPT: Record<string, keyof typeof SCRIPTS> = {
  en: 'latin',
  fr: 'latin',
  de: 'latin',
  es: 'latin',
  it: 'latin',
  pt: 'latin',
  hi: 'devanagari',
  sa: 'devanagari',
  mr: 'devanagari',
  ne: 'devanagari',
};

/** Share of the letters of `text` written in the script of `language`; null when the language is not known here. */
export function scriptShare(text: string, language: string): number | null {
  const script = LANGUAGE_SCRIPT[baseLanguage(language)];
  if (!script) return null;
  const letters = [...text].filter((ch) => /\p{L}|\p{M}/u.test(ch));
  if (letters.length === 0) return null;
  return letters.filter((ch) => SCRIPTS[script]?.test(ch)).length / letters.length;
}

export interface SegmentScore {
  score: number;
  reasons: LowConfidenceReason[];
}

/**
 * Per-segment score, documented in docs/transcription.md: the engine's confidence where it gives
 * one, else 0.9; then halved for an implausible speech rate, scaled by the share of the language's
 * script, and capped at 0.2 where a repetition loop was collapsed.
 */
export function scoreSegment(segment: TranscriptSegment, language: string): SegmentScore {
  const reasons: LowConfidenceReason[] = [];
  let score = segment.confidence ?? HEURISTIC_BASE_SCORE;
  if (segment.confidence !== undefined && segment.confidence < LOW_CONFIDENCE_SCORE)
    reasons.push('engine_confidence');
  const words = tokensOf(segment.text).length;
  const seconds = Math.max(segment.end - segment.start, 0.01);
  const rate = words / seconds;
  if (rate > MAX_WORDS_PER_SEC || (seconds >= MIN_SEC_FOR_SLOW_CHECK && rate < MIN_WORDS_PER_SEC)) {
    score *= 0.5;
    reasons.push('speech_rate');
  }
  const share = scriptShare(segment.text, language);
  if (share !== null && share < MIN_SCRIPT_SHARE) {
    score *= share;
    reasons.push('script_mismatch');
  }
  if (segment.repetitionCollapsed) {
    score = Math.min(score, SCORE_AFTER_REPETITION);
    reasons.push('repetition');
  }
  return { score: Math.round(score * 1000) / 1000, reasons };
}

export interface QualityContext {
  language: string;
  engineName: string;
  engineLanguages: readonly string[];
  /** Chunks with speech in them for which the engine returned nothing. */
  emptyChunks?: ReadonlyArray<{ start: number; end: number }>;
  /** Chunks of steady sound (noise, a tone, music) in which few or no words were recognised. */
  noisyChunks?: ReadonlyArray<{ start: number; end: number }>;
  /** Extra hints the pipeline already knows (a truncated file). */
  hints?: readonly string[];
}

const HINT_FOR_REASON: Record<LowConfidenceReason, string> = {
  engine_confidence: 'the engine itself was unsure',
  repetition: 'the engine repeated itself and the loop was removed',
  speech_rate: 'more or fewer words than anyone can say in that time',
  script_mismatch: 'text not written in the script of the job language',
  empty_output: 'speech was heard but nothing was recognised',
  noise_or_music: 'steady sound, probably noise or music, with few words recognised',
};

/** Score of a chunk where noise or music was suspected. */
const SCORE_NOISE_OR_MUSIC = 0.2;

/**
 * Score: mean segment score weighted by segment length (a one-word "ah" in noise should not count
 * as much as a minute of speech); null when the engine gives no confidence at all. Low-confidence
 * segments are listed with their time range and the reasons, and summarised in hints.
 */
export function assessTranscriptQuality(segments: readonly Segment[], context: QualityContext): JobQuality {
  const hints: string[] = [...(context.hints ?? [])];
  const language = baseLanguage(context.language);
  const known = context.engineLanguages.map(baseLanguage);
  if (language !== 'auto' && !known.includes('*') && !known.includes(language)) {
    hints.push(
      `The speech engine (${context.engineName}) only knows ${known.map(languageName).join(', ')}; ` +
        `this recording was transcribed as if it were, although the job language is ${languageName(language)} ` +
        `(${context.language}), so expect the text to be wrong. Choose an engine that supports ${languageName(language)}.`,
    );
  }
  if (segments.length === 0) hints.push('No speech was recognised in the recording.');

  let weighted = 0;
  let weight = 0;
  const low: NonNullable<JobQuality['low_confidence_segments']> = [];
  for (const segment of segments) {
    const scored = scoreSegment({ chunk: 0, ...segment }, context.language);
    if (scored.score < LOW_CONFIDENCE_SCORE || scored.reasons.includes('repetition')) {
      low.push({
        start_sec: Math.round(segment.start * 1000) / 1000,
        end_sec: Math.round(segment.end * 1000) / 1000,
        score: scored.score,
        reasons: scored.reasons,
      });
    }
    if (segment.confidence === undefined) continue;
    // A zero-length segment still counts a little, so a score exists whenever a confidence does.
    const length = Math.max(segment.end - segment.start, 0.01);
    weighted += scored.score * length;
    weight += length;
  }
  for (const chunk of context.emptyChunks ?? []) {
    low.push({
      start_sec: Math.round(chunk.start * 1000) / 1000,
      end_sec: Math.round(chunk.end * 1000) / 1000,
      score: 0,
      reasons: ['empty_output'],
    });
  }
  const noisy = context.noisyChunks ?? [];
  for (const chunk of noisy) {
    low.push({
      start_sec: Math.round(chunk.start * 1000) / 1000,
      end_sec: Math.round(chunk.end * 1000) / 1000,
      score: SCORE_NOISE_OR_MUSIC,
      reasons: ['noise_or_music'],
    });
  }
  if (noisy.length > 0) {
    const ranges = noisy
      .slice(0, 3)
      .map((chunk) => `${formatMediaClock(chunk.start)}–${formatMediaClock(chunk.end)}`)
      .join(', ');
    hints.push(
      `Noise or music suspected at ${ranges}${noisy.length > 3 ? ` and ${noisy.length - 3} more` : ''}: ` +
        'steady sound in which few words were recognised. Speech under music or noise may be missing there.',
    );
  }
  low.sort((a, b) => a.start_sec - b.start_sec);
  if (low.length > 0) {
    const examples = low
      .slice(0, 3)
      .map(
        (entry) =>
          `${formatMediaClock(entry.start_sec)}–${formatMediaClock(entry.end_sec)} (${entry.reasons.map((r) => HINT_FOR_REASON[r as LowConfidenceReason] ?? r).join('; ')})`,
      )
      .join(', ');
    hints.push(
      `${low.length} passage${low.length === 1 ? '' : 's'} may be wrong; listen to ${examples}${low.length > 3 ? ' and the others listed in low_confidence_segments' : ''}.`,
    );
  }
  const score = weight > 0 ? Math.round((weighted / weight) * 1000) / 1000 : null;
  return low.length > 0 ? { score, hints, low_confidence_segments: low } : { score, hints };
}
