import type { Segment } from '../../engines/speech/speech-engine.js';
import { tokensOf } from './transcript-segment.js';

/**
 * Limits of common subtitle guides (Netflix timed text style guide, BBC subtitle guidelines):
 * at most 42 characters a line and 2 lines a cue, shown between 5/6 s and 7 s.
 */
export const SUBTITLE_LIMITS = {
  maxLineChars: 42,
  maxLines: 2,
  minCueSec: 5 / 6,
  maxCueSec: 7,
} as const;

function splitTime(seconds: number): { hours: string; minutes: string; secs: string; millis: string } {
  // Whole milliseconds first, so 1.9996 s becomes 00:00:02,000 rather than 00:00:01,1000.
  const totalMs = Math.max(0, Math.round(seconds * 1000));
  const pad = (value: number, width: number) => String(value).padStart(width, '0');
  return {
    hours: pad(Math.floor(totalMs / 3_600_000), 2),
    minutes: pad(Math.floor(totalMs / 60_000) % 60, 2),
    secs: pad(Math.floor(totalMs / 1000) % 60, 2),
    millis: pad(totalMs % 1000, 3),
  };
}

/** `00:00:01,500`: SubRip uses a comma before the milliseconds. */
export function formatSrtTimestamp(seconds: number): string {
  const t = splitTime(seconds);
  return `${t.hours}:${t.minutes}:${t.secs},${t.millis}`;
}

/** `00:00:01.500`: WebVTT uses a full stop. */
export function formatVttTimestamp(seconds: number): string {
  const t = splitTime(seconds);
  return `${t.hours}:${t.minutes}:${t.secs}.${t.millis}`;
}

export interface Cue {
  start: number;
  end: number;
  /** One or two lines, each within the line limit. */
  lines: string[];
}

interface TimedWord {
  text: string;
  start: number;
  end: number;
}

const charLength = (text: string) => [...text].length;

/** A word longer than a line is cut into line-sized pieces (a URL, a run of digits). */
function pieces(word: string): string[] {
  const chars = [...word];
  if (chars.length <= SUBTITLE_LIMITS.maxLineChars) return [word];
  const out: string[] = [];
  for (let i = 0; i < chars.length; i += SUBTITLE_LIMITS.maxLineChars) {
    out.push(chars.slice(i, i + SUBTITLE_LIMITS.maxLineChars).join(''));
  }
  return out;
}

/** Word times from the engine when it gave them, else spread over the segment by character count. */
function timedWords(segment: Segment): TimedWord[] {
  const start = segment.start;
  const end = Math.max(segment.start, segment.end);
  if (segment.words?.length) {
    return segment.words.flatMap((word) =>
      pieces(word.text.replace(/\s+/g, ' ').trim())
        .filter(Boolean)
        .map((text) => ({ text, start: word.start, end: Math.max(word.start, word.end) })),
    );
  }
  const words = tokensOf(segment.text).flatMap(pieces);
  const total = words.reduce((sum, word) => sum + charLength(word) + 1, 0);
  let at = 0;
  return words.map((text) => {
    const from = start + ((end - start) * at) / total;
    at += charLength(text) + 1;
    return { text, start: from, end: start + ((end - start) * at) / total };
  });
}

/** Wraps into lines of at most 42 characters, as balanced as possible; null when more than 2 lines are needed. */
export function wrapCueText(words: readonly string[]): string[] | null {
  const text = words.join(' ');
  if (charLength(text) <= SUBTITLE_LIMITS.maxLineChars) return [text];
  let best: string[] | null = null;
  let bestDiff = Number.POSITIVE_INFINITY;
  for (let split = 1; split < words.length; split++) {
    const first = words.slice(0, split).join(' ');
    const second = words.slice(split).join(' ');
    if (
      charLength(first) > SUBTITLE_LIMITS.maxLineChars ||
      charLength(second) > SUBTITLE_LIMITS.maxLineChars
    ) {
      continue;
    }
    const diff = Math.abs(charLength(first) - charLength(second));
    if (diff < bestDiff) {
      best = [first, second];
      bestDiff = diff;
    }
  }
  return best;
}

/**
 * Segments → cues within the limits: a segment too long to read in one cue is split at word
 * borders (by the engine's word times when it gave them); cues never overlap, times only rise,
 * and a short cue is held up to 5/6 s when the next one leaves room.
 */
export function buildCues(segments: readonly Segment[]): Cue[] {
  const cues: Cue[] = [];
  const ordered = [...segments].sort((a, b) => a.start - b.start);
  for (const segment of ordered) {
    const words = timedWords(segment);
    let current: TimedWord[] = [];
    const flush = () => {
      const first = current[0];
      const last = current[current.length - 1];
      if (!first || !last) return;
      cues.push({
        start: first.start,
        end: last.end,
        lines: wrapCueText(current.map((word) => word.text)) ?? [current.map((w) => w.text).join(' ')],
      });
      current = [];
    };
    for (const word of words) {
      const candidate = [...current, word];
      const first = candidate[0] ?? word;
      const fits =
        wrapCueText(candidate.map((w) => w.text)) !== null &&
        word.end - first.start <= SUBTITLE_LIMITS.maxCueSec;
      if (!fits && current.length > 0) flush();
      current.push(word);
    }
    flush();
  }
  // Times: rising, never overlapping, each cue between the minimum and the maximum duration where possible.
  let previousEnd = 0;
  for (let i = 0; i < cues.length; i++) {
    const cue = cues[i] as Cue;
    const nextStart = cues[i + 1]?.start ?? Number.POSITIVE_INFINITY;
    cue.start = Math.max(cue.start, previousEnd);
    cue.end = Math.min(
      Math.max(cue.end, cue.start + SUBTITLE_LIMITS.minCueSec),
      cue.start + SUBTITLE_LIMITS.maxCueSec,
    );
    cue.end = Math.max(Math.min(cue.end, nextStart), cue.start + 0.001);
    cue.start = Math.round(cue.start * 1000) / 1000;
    cue.end = Math.round(cue.end * 1000) / 1000;
    previousEnd = cue.end;
  }
  return cues;
}

/** SubRip: numbered cues separated by blank lines. */
export function renderSrt(segments: readonly Segment[]): string {
  return buildCues(segments)
    .map(
      (cue, index) =>
        `${index + 1}\n${formatSrtTimestamp(cue.start)} --> ${formatSrtTimestamp(cue.end)}\n${cue.lines.join('\n')}\n`,
    )
    .join('\n');
}

/** WebVTT cue text is markup: `&`, `<` and `>` must be escaped. */
function escapeVtt(text: string): string {
  return text.replaceAll('&', '&amp;').replaceAll('<', '&lt;').replaceAll('>', '&gt;');
}

/** WebVTT: a `WEBVTT` header, then cues separated by blank lines. */
export function renderVtt(segments: readonly Segment[]): string {
  const body = buildCues(segments)
    .map(
      (cue) =>
        `${formatVttTimestamp(cue.start)} --> ${formatVttTimestamp(cue.end)}\n${cue.lines.map(escapeVtt).join('\n')}\n`,
    )
    .join('\n');
  return body ? `WEBVTT\n\n${body}` : 'WEBVTT\n';
}
