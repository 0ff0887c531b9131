import { describe, expect, it } from 'vitest';
import { isAppError } from '../contract/index.js';
import { loadConfig } from './load-config.js';
import { assertSpeechEngineOffered, offeredEngines } from './offered-engines.js';

describe('offeredEngines', () => {
  it('offers only the always-there engines when nothing else is configured', () => {
    expect(offeredEngines(loadConfig({}))).toEqual({
      ocr: ['tesseract'],
      speech: ['pocketsphinx'],
      defaults: { ocr: 'tesseract', speech: 'pocketsphinx' },
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

describe('assertSpeechEngineOffered', () => {
  const offered = { speech: ['pocketsphinx', 'openai'] };

  it('passes an offered engine and no engine at all (null, absent: the default)', () => {
    expect(() => assertSpeechEngineOffered(offered, 'openai')).not.toThrow();
    expect(() => assertSpeechEngineOffered(offered, undefined)).not.toThrow();
    expect(() => assertSpeechEngineOffered(offered, null)).not.toThrow();
  });

  it('refuses another with ENGINE_NOT_OFFERED (400), naming the field and what is offered', () => {
    let caught: unknown;
    try {
      assertSpeechEngineOffered(offered, 'whisper');
    } catch (error) {
      caught = error;
    }
    expect(isAppError(caught) && caught.code).toBe('ENGINE_NOT_OFFERED');
    if (!isAppError(caught)) throw new Error('not an AppError');
    expect(caught.httpStatus).toBe(400);
    expect(caught.message).toContain('pocketsphinx, openai');
    expect(caught.details).toEqual({
      errors: [{ field: 'transcription_engine', message: expect.any(String) }],
    });
  });
});
