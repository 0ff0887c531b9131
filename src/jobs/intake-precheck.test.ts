import { describe, expect, it } from 'vitest';
import { AppError } from '../contract/index.js';
import { type IntakeLimits, type IntakeState, precheckIntake } from './intake-precheck.js';

const limits: IntakeLimits = {
  maxUploadBytes: 100_000_000,
  ocrMaxPages: 2000,
  transcriptionMaxDurationSec: 4 * 3600,
  ocrEngine: 'tesseract',
  speechEngine: 'pocketsphinx',
  enginesOffered: { ocr: ['tesseract'], speech: ['pocketsphinx', 'whisper', 'openai'] },
  ocrPagesInFlight: 2,
  chunksInFlight: 2,
  activeJobsLimit: 0,
};
const state: IntakeState = { activeJobs: 0, queueWaiting: { OCR: 0, TRANSCRIPTION: 0 } };
const recording = { filename: 'talk.mp3', size_bytes: 1_000_000, duration_sec: 600 };

const codeOf = (run: () => unknown): string | null => {
  try {
    run();
    return null;
  } catch (error) {
    return error instanceof AppError ? error.code : 'not an AppError';
  }
};

describe('precheck of a recording that names its speech engine', () => {
  it('estimates with the configured engine when none is named', () => {
    const result = precheckIntake(recording, limits, state);
    expect(result.estimate).toMatchObject({ engine: 'pocketsphinx', cost_band: 'none' });
    expect(result.decision).toBe('allow');
  });

  it("estimates with the named engine's speed, and warns of a paid one", () => {
    const byDefault = precheckIntake(recording, limits, state).estimate.processing_sec ?? 0;
    const whisper = precheckIntake({ ...recording, engine: 'whisper' }, limits, state);
    expect(whisper.estimate.engine).toBe('whisper');
    expect(whisper.estimate.processing_sec).toBeGreaterThan(byDefault);
    const openai = precheckIntake({ ...recording, engine: 'openai' }, limits, state);
    expect(openai.estimate).toMatchObject({ engine: 'openai', cost_band: 'paid' });
    expect(openai.warnings.map((w) => w.code)).toContain('PAID_ENGINE');
  });

  it("prices the named engine's minutes and blocks above the per-job limit", () => {
    const cost = { perPage: {}, perMinute: { openai: 0.01 }, warnPerJob: 0, blockPerJob: 0.05 };
    const result = precheckIntake({ ...recording, engine: 'openai' }, { ...limits, cost }, state);
    expect(result.estimate.cost).toBe(0.1);
    expect(result.blocks.map((b) => b.code)).toContain('COST_LIMIT_EXCEEDED');
  });

  it('blocks an engine the deployment does not offer, as the upload would be refused, without pricing it', () => {
    const cost = { perPage: {}, perMinute: { gemini: 1 }, warnPerJob: 0.5, blockPerJob: 1 };
    const result = precheckIntake({ ...recording, engine: 'gemini' }, { ...limits, cost }, state);
    expect(result.decision).toBe('block');
    expect(result.blocks).toEqual([
      {
        code: 'ENGINE_NOT_OFFERED',
        message: 'gemini is not offered here; this server offers pocketsphinx, whisper, openai.',
      },
    ]);
    // It would not run: no paid-engine warning, no cost verdict.
    expect(result.warnings).toEqual([]);
  });

  it('refuses an OCR engine for a recording, and a speech engine for a document, with VALIDATION_FAILED', () => {
    expect(codeOf(() => precheckIntake({ ...recording, engine: 'tesseract' }, limits, state))).toBe(
      'VALIDATION_FAILED',
    );
    const document = { filename: 'book.pdf', size_bytes: 1000, page_count: 3 };
    expect(codeOf(() => precheckIntake({ ...document, engine: 'whisper' }, limits, state))).toBe(
      'VALIDATION_FAILED',
    );
  });
});

describe('precheck of a document that names its OCR engine', () => {
  const document = { filename: 'book.pdf', size_bytes: 1000, page_count: 3 };

  it('blocks an OCR engine the deployment does not offer, naming those it does', () => {
    const result = precheckIntake({ ...document, engine: 'gemini' }, limits, state);
    expect(result.decision).toBe('block');
    expect(result.blocks).toEqual([
      { code: 'ENGINE_NOT_OFFERED', message: 'gemini is not offered here; this server offers tesseract.' },
    ]);
    expect(result.estimate.engine).toBe('gemini');
    expect(result.warnings).toEqual([]);
  });

  it('estimates an offered one as usual', () => {
    const offered = { ...limits, enginesOffered: { ocr: ['tesseract', 'gemini'], speech: ['pocketsphinx'] } };
    const result = precheckIntake({ ...document, engine: 'gemini' }, offered, state);
    expect(result.blocks).toEqual([]);
    expect(result.estimate).toMatchObject({ engine: 'gemini', cost_band: 'paid' });
    expect(result.warnings.map((w) => w.code)).toEqual(['PAID_ENGINE']);
  });
});
