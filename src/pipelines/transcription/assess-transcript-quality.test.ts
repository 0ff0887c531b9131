import { describe, expect, it } from 'vitest';
import {
  assessTranscriptQuality,
  baseLanguage,
  scoreSegment,
  scriptShare,
} from './assess-transcript-quality.js';

const engine = { engineName: 'pocketsphinx', engineLanguages: ['en'] };

describe('assessTranscriptQuality', () => {
  it('weights confidence by segment length', () => {
    const quality = assessTranscriptQuality(
      [
        { start: 0, end: 9, text: 'long and sure', confidence: 0.9 },
        { start: 9, end: 10, text: 'ah', confidence: 0.4 },
      ],
      { language: 'en', ...engine },
    );
    expect(quality.score).toBe(0.85);
    expect(quality.low_confidence_segments).toEqual([
      { start_sec: 9, end_sec: 10, score: 0.4, reasons: ['engine_confidence'] },
    ]);
    expect(quality.hints?.[0]).toContain('00:09–00:10 (the engine itself was unsure)');
  });

  it('has no score when the engine gives no confidence', () => {
    expect(
      assessTranscriptQuality([{ start: 0, end: 1, text: 'hello' }], { language: 'en', ...engine }).score,
    ).toBe(null);
  });

  it('accepts English written as a three-letter code or with a region', () => {
    expect(assessTranscriptQuality([], { language: 'eng', ...engine }).hints).toEqual([
      'No speech was recognised in the recording.',
    ]);
    expect(baseLanguage('en-GB')).toBe('en');
  });

  it('warns, without failing, that the engine only knows English when the job is in Hindi', () => {
    const [hint] =
      assessTranscriptQuality([{ start: 0, end: 1, text: 'hello', confidence: 0.5 }], {
        language: 'hi',
        ...engine,
      }).hints ?? [];
    expect(hint).toContain('only knows English');
    expect(hint).toContain('Hindi');
  });

  it('halves the score of a segment with more words than anyone can say, or almost none over a long stretch', () => {
    const fast = scoreSegment(
      { chunk: 0, start: 0, end: 1, text: 'one two three four five six seven' },
      'en',
    );
    expect(fast).toEqual({ score: 0.45, reasons: ['speech_rate'] });
    // Six words a second is still speech.
    expect(scoreSegment({ chunk: 0, start: 0, end: 1, text: 'one two three four five six' }, 'en')).toEqual({
      score: 0.9,
      reasons: [],
    });
    const slow = scoreSegment({ chunk: 0, start: 0, end: 10, text: 'ah' }, 'en');
    expect(slow).toEqual({ score: 0.45, reasons: ['speech_rate'] });
    // A short pause with one word is not judged: under 8 s the rate says nothing.
    expect(scoreSegment({ chunk: 0, start: 0, end: 7, text: 'ah' }, 'en').reasons).toEqual([]);
    const quality = assessTranscriptQuality(
      [{ start: 3, end: 4, text: 'one two three four five six seven' }],
      {
        language: 'en',
        ...engine,
      },
    );
    expect(quality.low_confidence_segments).toEqual([
      { start_sec: 3, end_sec: 4, score: 0.45, reasons: ['speech_rate'] },
    ]);
    expect(quality.hints?.at(-1)).toContain('more or fewer words than anyone can say in that time');
  });

  it('scales the score by the share of letters in the script of the job language', () => {
    expect(scriptShare('नमस्ते दुनिया', 'hi')).toBe(1);
    expect(scriptShare('hello दुनिया', 'hi')).toBeCloseTo(6 / 11, 3);
    expect(scriptShare('12 34', 'en')).toBe(null);
    expect(scriptShare('hello', 'ja')).toBe(null);
    // A Hindi job whose text came out in Latin letters (an English-only engine, or transliteration).
    const latin = scoreSegment({ chunk: 0, start: 0, end: 2, text: 'namaste duniya' }, 'hi');
    expect(latin).toEqual({ score: 0, reasons: ['script_mismatch'] });
    const mixed = scoreSegment({ chunk: 0, start: 0, end: 2, text: 'hello दुनिया' }, 'hi');
    expect(mixed.reasons).toEqual(['script_mismatch']);
    expect(mixed.score).toBeCloseTo(0.9 * (6 / 11), 3);
    // Mostly the right script passes.
    expect(scoreSegment({ chunk: 0, start: 0, end: 2, text: 'नमस्ते दुनिया OK' }, 'hi').reasons).toEqual([]);
    const quality = assessTranscriptQuality([{ start: 0, end: 2, text: 'namaste duniya' }], {
      language: 'hi',
      engineName: 'whisper',
      engineLanguages: ['*'],
    });
    expect(quality.hints).toEqual([
      expect.stringContaining('00:00–00:02 (text not written in the script of the job language)'),
    ]);
  });

  it('names noise or music for chunks of steady sound with few words, with their time ranges', () => {
    const quality = assessTranscriptQuality(
      [{ start: 0, end: 5, text: 'a sentence of real words', confidence: 0.9 }],
      {
        language: 'en',
        ...engine,
        noisyChunks: [{ start: 5, end: 35 }],
      },
    );
    expect(quality.low_confidence_segments).toEqual([
      { start_sec: 5, end_sec: 35, score: 0.2, reasons: ['noise_or_music'] },
    ]);
    expect(quality.hints).toEqual([
      expect.stringMatching(/^Noise or music suspected at 00:05–00:35: steady sound/),
      expect.stringContaining('probably noise or music'),
    ]);
  });
});
