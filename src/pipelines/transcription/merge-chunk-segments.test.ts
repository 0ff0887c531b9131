import { describe, expect, it } from 'vitest';
import { mergeChunkSegments } from './merge-chunk-segments.js';
import type { PlannedChunk } from './plan-chunks.js';

const chunk = (index: number, start: number, end: number): PlannedChunk => ({
  index,
  start,
  end,
  audioStart: Math.max(0, start - 1),
  audioEnd: end + 1,
  cutAtSilence: true,
});
const w = (text: string, start: number) => ({ text, start, end: start + 0.4 });

describe('mergeChunkSegments', () => {
  it('keeps each word once, from the chunk whose stretch holds its middle', () => {
    const merged = mergeChunkSegments([
      {
        chunk: chunk(0, 0, 10),
        segments: [
          { start: 8, end: 10.8, text: 'a b c d', words: [w('a', 8), w('b', 9), w('c', 9.7), w('d', 10.4)] },
        ],
      },
      {
        chunk: chunk(1, 10, 20),
        segments: [
          { start: 9, end: 11.5, text: 'b c d e', words: [w('b', 9), w('c', 9.7), w('d', 10.4), w('e', 11)] },
        ],
      },
    ]);
    expect(merged.map((segment) => segment.text)).toEqual(['a b c', 'd e']);
    expect(merged.map((segment) => segment.chunk)).toEqual([0, 1]);
  });

  it('drops words heard on both sides of a seam when the engine timed them differently', () => {
    const merged = mergeChunkSegments([
      { chunk: chunk(0, 0, 10), segments: [{ start: 7, end: 9.9, text: 'over the river' }] },
      { chunk: chunk(1, 10, 20), segments: [{ start: 10, end: 14, text: 'the river bank was green' }] },
    ]);
    expect(merged.map((segment) => segment.text)).toEqual(['over the river', 'bank was green']);
  });

  it('keeps a single repeated word when the two copies were said at different times', () => {
    const merged = mergeChunkSegments([
      { chunk: chunk(0, 0, 10), segments: [{ start: 8, end: 9, text: 'no', words: [w('no', 8.5)] }] },
      { chunk: chunk(1, 10, 20), segments: [{ start: 11, end: 12, text: 'no', words: [w('no', 11)] }] },
    ]);
    expect(merged.map((segment) => segment.text)).toEqual(['no', 'no']);
  });
});
