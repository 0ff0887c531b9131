import { describe, expect, it } from 'vitest';
import { loadConfig } from '../config/index.js';
import type { SpeechEngine } from '../engines/speech/speech-engine.js';
import { SpeechEngines } from './build-pipelines.js';

/** Counts what the registry creates and closes, instead of starting real engine processes. */
function countingFactory() {
  const created: string[] = [];
  const closed: string[] = [];
  const create = (name: string): SpeechEngine => {
    created.push(name);
    return {
      name,
      languages: ['*'],
      version: async () => 'test',
      transcribe: async () => [],
      close: async () => {
        closed.push(name);
      },
    };
  };
  return { created, closed, create };
}

describe('SpeechEngines', () => {
  const config = loadConfig({ OPENAI_API_KEY: 'sk-test', WHISPER_MODEL: '/models/ggml.bin' });

  it('creates an engine on first use only, once, and closes every one created', async () => {
    const factory = countingFactory();
    const engines = new SpeechEngines(config, factory.create);
    expect(factory.created).toEqual([]);
    expect(engines.default().name).toBe('pocketsphinx');
    expect(engines.get('openai')).toBe(engines.get('openai'));
    expect(factory.created).toEqual(['pocketsphinx', 'openai']);
    await engines.close();
    expect(factory.closed.sort()).toEqual(['openai', 'pocketsphinx']);
  });

  it('refuses an engine the deployment does not offer with ENGINE_NOT_CONFIGURED, creating nothing', () => {
    const factory = countingFactory();
    const engines = new SpeechEngines(loadConfig({}), factory.create);
    expect(() => engines.get('whisper')).toThrow(/not configured on this worker \(it offers pocketsphinx\)/);
    expect(factory.created).toEqual([]);
  });
});
