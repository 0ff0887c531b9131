import type { Segment, Word } from '../../engines/speech/speech-engine.js';
import type { PlannedChunk } from './plan-chunks.js';
import { normaliseToken, type TranscriptSegment, tokensOf } from './transcript-segment.js';

/** Longest run of words looked for twice at a seam. */
const MAX_SEAM_WORDS = 8;
/** A single repeated word counts as a duplicate only when both copies were heard at about the same time. */
const SAME_WORD_SEC = 0.3;

export interface ChunkSegments {
  chunk: PlannedChunk;
  /** Engine segments with times already shifted to the recording's clock. */
  segments: Array<Segment & { repetitionCollapsed?: boolean }>;
}

function rebuild<T extends Segment>(segment: T, words: Word[]): T {
  const first = words[0];
  const last = words[words.length - 1];
  const confidences = words.map((word) => word.confidence).filter((c): c is number => c !== undefined);
  const rebuilt: T = {
    ...segment,
    start: first?.start ?? segment.start,
    end: last?.end ?? segment.end,
    text: words.map((word) => word.text).join(' '),
    words,
  };
  if (confidences.length > 0) {
    rebuilt.confidence =
      Math.round((confidences.reduce((a, b) => a + b, 0) / confidences.length) * 1000) / 1000;
  }
  return rebuilt;
}

/** Keeps what lies in the chunk's own stretch: words (or whole segments) whose middle falls there. */
export function keepOwned(
  chunk: PlannedChunk,
  segments: ChunkSegments['segments'],
  isLast: boolean,
): TranscriptSegment[] {
  const owns = (start: number, end: number) => {
    const middle = (start + end) / 2;
    return middle >= chunk.start && (middle < chunk.end || (isLast && middle <= chunk.end + 1e-6));
  };
  const kept: TranscriptSegment[] = [];
  for (const segment of segments) {
    if (segment.words?.length) {
      const words = segment.words.filter((word) => owns(word.start, word.end));
      if (words.length === 0) continue;
      const rebuilt = words.length === segment.words.length ? segment : rebuild(segment, words);
      kept.push({ ...rebuilt, chunk: chunk.index });
    } else if (owns(segment.start, segment.end)) {
      kept.push({ ...segment, chunk: chunk.index });
    }
  }
  return kept;
}

interface SeamWord {
  norm: string;
  start: number | undefined;
  end: number | undefined;
}

function seamWords(segment: Segment): SeamWord[] {
  if (segment.words?.length) {
    return segment.words.map((word) => ({
      norm: normaliseToken(word.text),
      start: word.start,
      end: word.end,
    }));
  }
  return tokensOf(segment.text).map((token) => ({
    norm: normaliseToken(token),
    start: undefined,
    end: undefined,
  }));
}

/** How many words at the head of `next` repeat the tail of `previous`, as the same words heard twice. */
export function seamOverlap(previous: readonly Segment[], next: readonly Segment[]): number {
  const tail = previous.slice(-MAX_SEAM_WORDS).flatMap(seamWords).slice(-MAX_SEAM_WORDS);
  const head = next.slice(0, MAX_SEAM_WORDS).flatMap(seamWords).slice(0, MAX_SEAM_WORDS);
  for (let k = Math.min(tail.length, head.length); k >= 1; k--) {
    let same = true;
    for (let i = 0; i < k; i++) {
      const a = tail[tail.length - k + i];
      const b = head[i];
      if (!a || !b || a.norm === '' || a.norm !== b.norm) {
        same = false;
        break;
      }
    }
    if (!same) continue;
    if (k >= 2) return k;
    // One word alone ("the", "no") is often said twice: only drop it when both copies overlap in time.
    const a = tail[tail.length - 1];
    const b = head[0];
    if (a?.end !== undefined && b?.start !== undefined && b.start < a.end + SAME_WORD_SEC) return 1;
  }
  return 0;
}

function dropLeadingWords(segments: TranscriptSegment[], count: number): TranscriptSegment[] {
  let left = count;
  const out: TranscriptSegment[] = [];
  for (const segment of segments) {
    if (left === 0) {
      out.push(segment);
      continue;
    }
    if (segment.words?.length) {
      const words = segment.words.slice(left);
      left = Math.max(0, left - segment.words.length);
      if (words.length > 0) out.push(rebuild(segment, words));
    } else {
      const tokens = tokensOf(segment.text);
      const rest = tokens.slice(left);
      left = Math.max(0, left - tokens.length);
      if (rest.length > 0) out.push({ ...segment, text: rest.join(' ') });
    }
  }
  return out;
}

/**
 * Joins the chunks' segments into one transcript: each chunk contributes only its own stretch,
 * then any words still heard on both sides of a seam (an engine's timing is not exact) are dropped
 * from the later chunk. Returns segments in time order.
 */
export function mergeChunkSegments(chunks: readonly ChunkSegments[]): TranscriptSegment[] {
  const ordered = [...chunks].sort((a, b) => a.chunk.index - b.chunk.index);
  const merged: TranscriptSegment[] = [];
  ordered.forEach((entry, position) => {
    let owned = keepOwned(entry.chunk, entry.segments, position === ordered.length - 1);
    if (merged.length > 0 && owned.length > 0) {
      const duplicate = seamOverlap(merged, owned);
      if (duplicate > 0) owned = dropLeadingWords(owned, duplicate);
    }
    merged.push(...owned);
  });
  return merged;
}
