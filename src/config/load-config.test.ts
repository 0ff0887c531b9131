import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { CONFIG_VARIABLES, ConfigError, loadConfig } from './load-config.js';

describe('loadConfig', () => {
  it('runs with no variables set, on loopback, with local defaults', () => {
    const config = loadConfig({});
    expect(config.role).toBe('all');
    expect(config.http).toEqual({ host: '127.0.0.1', port: 8080 });
    expect(config.redis.url).toBe('redis://127.0.0.1:6379');
    expect(config.dataDir).toBe(path.resolve('./data'));
    expect(config.ocr.languages).toBe('hin+eng');
    expect(config.worker.queues).toEqual(['ocr', 'transcription']);
  });

  it('treats empty values as unset', () => {
    expect(loadConfig({ PORT: '' }).http.port).toBe(8080);
  });

  it('reports every bad variable in one error, not just the first', () => {
    let caught: unknown;
    try {
      loadConfig({ PORT: 'eighty', REDIS_URL: 'http://x', WORKER_QUEUES: 'ocr,video', OCR_DPI: '5' });
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(ConfigError);
    const problems = (caught as ConfigError).problems.join('\n');
    for (const name of ['PORT', 'REDIS_URL', 'WORKER_QUEUES', 'OCR_DPI']) expect(problems).toContain(name);
    expect((caught as ConfigError).problems).toHaveLength(4);
  });

  it('never echoes a Redis URL, which may hold a password, in its message', () => {
    expect(() => loadConfig({ REDIS_URL: 'http://user:hunter2@host' })).toThrow(/REDIS_URL/);
    try {
      loadConfig({ REDIS_URL: 'http://user:hunter2@host' });
    } catch (error) {
      expect((error as Error).message).not.toContain('hunter2');
    }
  });

  it('refuses the openai speech engine without its API key, and configures it with one', () => {
    expect(() => loadConfig({ TRANSCRIPTION_ENGINE: 'openai' })).toThrow(
      /TRANSCRIPTION_ENGINE.*OPENAI_API_KEY/,
    );
    const config = loadConfig({ TRANSCRIPTION_ENGINE: 'openai', OPENAI_API_KEY: 'sk-x' });
    expect(config.transcription.openai).toMatchObject({ apiKey: 'sk-x', model: 'whisper-1' });
    expect(() => loadConfig({ TRANSCRIPTION_ENGINE: 'whisper' })).toThrow(ConfigError);
  });

  it('lets the CLI override the role', () => {
    expect(loadConfig({ SERVICE_ROLE: 'api' }, { SERVICE_ROLE: 'worker' }).role).toBe('worker');
  });

  it('is documented variable by variable in docs/configuration.md', () => {
    const doc = readFileSync(new URL('../../docs/configuration.md', import.meta.url), 'utf8');
    expect(CONFIG_VARIABLES.filter((name) => !doc.includes(`\`${name}\``))).toEqual([]);
  });
});
