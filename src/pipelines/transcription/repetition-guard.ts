import type { Segment, Word } from '../../engines/speech/speech-engine.js';
import { normaliseToken, tokensOf } from './transcript-segment.js';

/** Loops longer than this many words per repeated unit are not looked for (whole sentences are rare). */
const MAX_NGRAM = 8;
/** A loop must cover at least this many words: "no no no" is speech, thirty "thank you"s are not. */
const MIN_LOOP_TOKENS = 8;

export interface RepetitionRun {
  /** Words in the repeated unit. */
  size: number;
  /** How many times the unit occurs back to back. */
  repeats: number;
  /** Index of the first word of the loop in the token list. */
  at: number;
}

/**
 * Runs where the same n-gram (n = 1–8) occurs back to back more than `maxRepeats` times, found
 * greedily from the left, longest coverage first: what decoders stuck in a loop produce.
 */
export function findRepetitionRuns(tokens: readonly string[], maxRepeats: number): RepetitionRun[] {
  const words = tokens.map(normaliseToken);
  const runs: RepetitionRun[] = [];
  let i = 0;
  while (i < words.length) {
    let best: RepetitionRun | null = null;
    for (let size = 1; size <= MAX_NGRAM && i + size * 2 <= words.length; size++) {
      let repeats = 1;
      while (i + (repeats + 1) * size <= words.length) {
        let same = true;
        for (let k = 0; k < size; k++) {
          if (words[i + k] !== words[i + repeats * size + k]) {
            same = false;
            break;
          }
        }
        if (!same) break;
        repeats += 1;
      }
      const coverage = repeats * size;
      if (
        repeats > maxRepeats &&
        coverage >= MIN_LOOP_TOKENS &&
        (!best || coverage > best.repeats * best.size)
      ) {
        best = { size, repeats, at: i };
      }
    }
    if (best) {
      runs.push(best);
      i += best.size * best.repeats;
    } else {
      i += 1;
    }
  }
  return runs;
}

interface Item {
  token: string;
  segment: number;
  word: Word | undefined;
}

function flatten(segments: readonly Segment[]): Item[] {
  const items: Item[] = [];
  segments.forEach((segment, index) => {
    if (segment.words?.length) {
      for (const word of segment.words) items.push({ token: word.text, segment: index, word });
    } else {
      for (const token of tokensOf(segment.text)) items.push({ token, segment: index, word: undefined });
    }
  });
  return items;
}

export function hasRunawayRepetition(segments: readonly Segment[], maxRepeats: number): boolean {
  return (
    findRepetitionRuns(
      flatten(segments).map((item) => item.token),
      maxRepeats,
    ).length > 0
  );
}

/**
 * Keeps one occurrence of each runaway loop, across segment borders; the segment holding it is
 * stretched over the time the loop took and marked, so people can listen to that stretch again.
 */
export function collapseRepetition(
  segments: readonly Segment[],
  maxRepeats: number,
): { segments: Array<Segment & { repetitionCollapsed?: boolean }>; collapsed: number } {
  const items = flatten(segments);
  const runs = findRepetitionRuns(
    items.map((item) => item.token),
    maxRepeats,
  );
  if (runs.length === 0) return { segments: segments.map((segment) => ({ ...segment })), collapsed: 0 };
  const dropped = new Set<number>();
  const stretchTo = new Map<number, number>();
  const marked = new Set<number>();
  for (const run of runs) {
    const keeper = items[run.at]?.segment ?? 0;
    marked.add(keeper);
    const lastIndex = run.at + run.size * run.repeats - 1;
    const lastSegment = items[lastIndex]?.segment ?? keeper;
    const lastEnd = items[lastIndex]?.word?.end ?? segments[lastSegment]?.end ?? 0;
    stretchTo.set(keeper, Math.max(stretchTo.get(keeper) ?? 0, lastEnd));
    for (let k = run.at + run.size; k <= lastIndex; k++) dropped.add(k);
  }
  const out: Array<Segment & { repetitionCollapsed?: boolean }> = [];
  segments.forEach((segment, index) => {
    const kept = items
      .map((item, position) => ({ item, position }))
      .filter(({ item, position }) => item.segment === index && !dropped.has(position))
      .map(({ item }) => item);
    if (kept.length === 0) return;
    const words = segment.words?.length
      ? kept.map((item) => item.word).filter((word): word is Word => word !== undefined)
      : undefined;
    const next: Segment & { repetitionCollapsed?: boolean } = {
      ...segment,
      text: kept.map((item) => item.token).join(' '),
      end: Math.max(segment.end, stretchTo.get(index) ?? segment.end),
    };
    if (words) next.words = words;
    if (marked.has(index)) next.repetitionCollapsed = true;
    out.push(next);
  });
  return { segments: out, collapsed: runs.length };
}
