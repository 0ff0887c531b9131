import { describe, expect, it } from 'vitest';
import { AppError } from '../contract/index.js';
import { type IntakeLimits, type IntakeState, precheckIntake } from './intake-precheck.js';

const limits: IntakeLimits = {
  maxUploadBytes: 100_000_000,
  ocrMaxPages: 2000,
  transcriptionMaxDurationSec: 4 * 3600,
  ocrEngine: 'tesseract',
  speechEngine: 'pocketsphinx',
  speechEnginesOffered: ['pocketsphinx', 'whisper', 'openai'],
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

  it('refuses an engine the deployment does not offer, and an OCR engine for a recording', () => {
    expect(codeOf(() => precheckIntake({ ...recording, engine: 'gemini' }, limits, state))).toBe(
      'ENGINE_NOT_OFFERED',
    );
    expect(codeOf(() => precheckIntake({ ...recording, engine: 'tesseract' }, limits, state))).toBe(
      'ENGINE_NOT_OFFERED',
    );
  });

  it('refuses a speech engine for a document', () => {
    const document = { filename: 'book.pdf', size_bytes: 1000, page_count: 3 };
    expect(codeOf(() => precheckIntake({ ...document, engine: 'whisper' }, limits, state))).toBe(
      'VALIDATION_FAILED',
    );
    expect(precheckIntake({ ...document, engine: 'gemini' }, limits, state).estimate.engine).toBe('gemini');
  });
});
