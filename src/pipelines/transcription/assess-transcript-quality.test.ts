import { describe, expect, it } from 'vitest';
import { assessTranscriptQuality, baseLanguage } from './assess-transcript-quality.js';

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
});
