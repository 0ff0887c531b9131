import { describe, expect, it } from 'vitest';
import { collapseRepetition, findRepetitionRuns, hasRunawayRepetition } from './repetition-guard.js';

const words = (text: string) => text.split(' ');

describe('repetition guard', () => {
  it('finds a phrase repeated back to back beyond the threshold', () => {
    const tokens = words(`so he said ${'thank you '.repeat(10).trim()} and left`);
    expect(findRepetitionRuns(tokens, 4)).toEqual([{ size: 2, repeats: 10, at: 3 }]);
  });

  it('leaves ordinary speech and short natural repeats alone', () => {
    expect(findRepetitionRuns(words('no no no I said no'), 4)).toEqual([]);
    expect(findRepetitionRuns(words('very very very very very good'), 4)).toEqual([]);
  });

  it('collapses a loop across segments to one occurrence and marks the segment', () => {
    const segments = [
      { start: 0, end: 2, text: 'welcome all' },
      ...Array.from({ length: 12 }, (_, i) => ({ start: 2 + i, end: 3 + i, text: 'Thank you.' })),
      { start: 14, end: 15, text: 'goodbye' },
    ];
    expect(hasRunawayRepetition(segments, 4)).toBe(true);
    const { segments: out, collapsed } = collapseRepetition(segments, 4);
    expect(collapsed).toBe(1);
    expect(out.map((segment) => segment.text)).toEqual(['welcome all', 'Thank you.', 'goodbye']);
    expect(out[1]).toMatchObject({ start: 2, end: 14, repetitionCollapsed: true });
  });

  it('keeps word timings of what remains', () => {
    const loop = Array.from({ length: 10 }, (_, i) => ({ start: i, end: i + 0.5, text: 'la' }));
    const { segments } = collapseRepetition(
      [{ start: 0, end: 10, text: 'la '.repeat(10).trim(), words: loop }],
      4,
    );
    expect(segments[0]?.words).toEqual([{ start: 0, end: 0.5, text: 'la' }]);
    expect(segments[0]?.end).toBe(10);
  });
});
