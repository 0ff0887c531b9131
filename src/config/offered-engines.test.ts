import { describe, expect, it } from 'vitest';
import { isAppError } from '../contract/index.js';
import { loadConfig } from './load-config.js';
import { assertEngineOffered, engineOfJob, offeredEngines, speechEngineOfModel } from './offered-engines.js';

describe('offeredEngines', () => {
  it('offers only the always-there engines when nothing else is configured', () => {
    expect(offeredEngines(loadConfig({}))).toEqual({
      ocr: ['tesseract'],
      speech: ['pocketsphinx'],
      defaults: { ocr: 'tesseract', ocrBySubtype: {}, speech: 'pocketsphinx' },
    });
  });

  it('adds every engine whose settings are there, in the one order of the contract', () => {
    const config = loadConfig({
      WHISPER_MODEL: '/models/ggml-base.bin',
      OPENAI_API_KEY: 'sk-test',
      GEMINI_API_KEY: 'g-test',
    });
    expect(offeredEngines(config).speech).toEqual(['pocketsphinx', 'whisper', 'openai', 'gemini']);
    expect(offeredEngines(config).ocr).toEqual(['tesseract', 'gemini']);
    expect(offeredEngines(loadConfig({ GEMINI_VERTEX_PROJECT: 'p' })).speech).toEqual([
      'pocketsphinx',
      'gemini',
    ]);
    expect(offeredEngines(loadConfig({ OPENAI_API_KEY: 'sk-test' })).speech).toEqual([
      'pocketsphinx',
      'openai',
    ]);
  });

  it('always offers the configured default', () => {
    const config = loadConfig({ TRANSCRIPTION_ENGINE: 'openai', OPENAI_API_KEY: 'sk-test' });
    expect(offeredEngines(config).speech).toEqual(['pocketsphinx', 'openai']);
    expect(offeredEngines(config).defaults.speech).toBe('openai');
  });
});

describe('engineOfJob', () => {
  const defaults = offeredEngines(
    loadConfig({ GEMINI_API_KEY: 'g-test', OCR_ENGINE_BY_SUBTYPE: 'jain_literature=gemini' }),
  ).defaults;
  const ocr = { job_type: 'OCR', content_subtype: 'general' } as const;
  const speech = { job_type: 'TRANSCRIPTION', content_subtype: 'general' } as const;

  it('names the engine a job asked for, before any attempt ran', () => {
    expect(engineOfJob({ ...ocr, ocr_options: { engine: 'gemini' } }, defaults)).toBe('gemini');
    expect(engineOfJob({ ...speech, transcription_options: { engine: 'whisper' } }, defaults)).toBe(
      'whisper',
    );
  });

  it('names the configured default of a job that asked for none, by subtype for documents', () => {
    expect(engineOfJob(ocr, defaults)).toBe('tesseract');
    expect(engineOfJob({ ...ocr, content_subtype: 'jain_literature' }, defaults)).toBe('gemini');
    expect(engineOfJob(speech, defaults)).toBe('pocketsphinx');
  });

  it('prefers the engine an attempt reported, and knows none without defaults', () => {
    expect(
      engineOfJob({ ...ocr, engine: 'tesseract 5.1.1', ocr_options: { engine: 'gemini' } }, defaults),
    ).toBe('tesseract 5.1.1');
    expect(engineOfJob(ocr)).toBeNull();
  });
});

const caughtBy = (run: () => unknown): unknown => {
  try {
    run();
  } catch (error) {
    return error;
  }
  throw new Error('nothing was thrown');
};

describe('assertEngineOffered', () => {
  const offered = { ocr: ['tesseract'], speech: ['pocketsphinx', 'openai'] };

  it('passes an offered engine and no engine at all (null, absent: the default), for both kinds', () => {
    expect(() => assertEngineOffered(offered, 'speech', 'openai', 'transcription_engine')).not.toThrow();
    expect(() => assertEngineOffered(offered, 'speech', undefined, 'transcription_engine')).not.toThrow();
    expect(() => assertEngineOffered(offered, 'speech', null, 'transcription_engine')).not.toThrow();
    expect(() => assertEngineOffered(offered, 'ocr', 'tesseract', 'ocr_engine')).not.toThrow();
    expect(() => assertEngineOffered(offered, 'ocr', null, 'ocr_engine')).not.toThrow();
  });

  it('refuses another with ENGINE_NOT_OFFERED (400), naming the field and what is offered', () => {
    const caught = caughtBy(() => assertEngineOffered(offered, 'speech', 'whisper', 'transcription_engine'));
    if (!isAppError(caught)) throw new Error('not an AppError');
    expect(caught.code).toBe('ENGINE_NOT_OFFERED');
    expect(caught.httpStatus).toBe(400);
    expect(caught.message).toContain('pocketsphinx, openai');
    expect(caught.details).toEqual({
      errors: [{ field: 'transcription_engine', message: expect.any(String) }],
    });
  });

  it('judges an OCR engine against the OCR engines only', () => {
    const caught = caughtBy(() => assertEngineOffered(offered, 'ocr', 'gemini', 'ocr_engine'));
    if (!isAppError(caught)) throw new Error('not an AppError');
    expect(caught.code).toBe('ENGINE_NOT_OFFERED');
    expect(caught.message).toBe('ocr_engine: gemini is not offered here; this server offers tesseract.');
    expect(caught.details).toEqual({
      errors: [{ field: 'ocr_engine', message: 'gemini is not offered here; this server offers tesseract' }],
    });
  });
});

describe('speechEngineOfModel', () => {
  const offered = { ocr: ['tesseract'], speech: ['pocketsphinx', 'openai'] };

  it("leaves OpenAI's model names to the configured engine and runs an offered engine named as the model", () => {
    expect(speechEngineOfModel(offered, 'whisper-1')).toBeUndefined();
    expect(speechEngineOfModel(offered, 'gpt-4o-transcribe')).toBeUndefined();
    expect(speechEngineOfModel(offered, 'openai')).toBe('openai');
    expect(speechEngineOfModel(offered, 'pocketsphinx')).toBe('pocketsphinx');
  });

  it('refuses an engine not offered, an unknown model and an OCR engine with ENGINE_NOT_OFFERED on `model`', () => {
    for (const model of ['gemini', 'dall-e-3', 'tesseract']) {
      const caught = caughtBy(() => speechEngineOfModel(offered, model));
      if (!isAppError(caught)) throw new Error('not an AppError');
      expect(caught.code).toBe('ENGINE_NOT_OFFERED');
      expect(caught.message).toContain('whisper-1');
      expect(caught.message).toContain('pocketsphinx, openai');
      expect(caught.details).toEqual({ errors: [{ field: 'model', message: expect.any(String) }] });
    }
  });
});
