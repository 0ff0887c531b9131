import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { CONFIG_VARIABLES, ConfigError, loadConfig } from './load-config.js';

describe('loadConfig', () => {
  it('runs with no variables set, on loopback, with local defaults', () => {
    const config = loadConfig({});
    expect(config.role).toBe('all');
    expect(config.http).toEqual({ host: '127.0.0.1', port: 8080, trustProxy: false });
    expect(config.redis.url).toBe('redis://127.0.0.1:6379');
    expect(config.dataDir).toBe(path.resolve('./data'));
    expect(config.ocr.languages).toBe('hin+eng');
    expect(config.worker.queues).toEqual(['ocr', 'transcription']);
  });

  it('sends one page per Gemini request unless OCR_CLOUD_BATCH_PAGES says more, up to 20', () => {
    expect(loadConfig({}).ocr.cloudBatchPages).toBe(1);
    expect(loadConfig({ OCR_CLOUD_BATCH_PAGES: '4' }).ocr.cloudBatchPages).toBe(4);
    expect(() => loadConfig({ OCR_CLOUD_BATCH_PAGES: '21' })).toThrow(/OCR_CLOUD_BATCH_PAGES/);
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
    expect(() => loadConfig({ TRANSCRIPTION_ENGINE: 'whisper' })).toThrow(
      /TRANSCRIPTION_ENGINE.*WHISPER_MODEL/,
    );
    const whisper = loadConfig({
      TRANSCRIPTION_ENGINE: 'whisper',
      WHISPER_MODEL: '/models/ggml-base.bin',
      WHISPER_THREADS: '2',
      WHISPER_IDLE_EXIT_SEC: '30',
    });
    expect(whisper.transcription.whisper).toEqual({
      modelPath: '/models/ggml-base.bin',
      threads: 2,
      useGpu: false,
      idleExitMs: 30_000,
    });
  });

  it('refuses the gemini speech engine without GEMINI_API_KEY; its model defaults to GEMINI_MODEL', () => {
    expect(() => loadConfig({ TRANSCRIPTION_ENGINE: 'gemini' })).toThrow(
      /TRANSCRIPTION_ENGINE.*GEMINI_API_KEY or GEMINI_VERTEX_PROJECT/,
    );
    const config = loadConfig({ TRANSCRIPTION_ENGINE: 'gemini', GEMINI_API_KEY: 'k', GEMINI_MODEL: 'm1' });
    expect(config.transcription.gemini).toMatchObject({ apiKey: 'k', model: 'm1', timeoutMs: 300_000 });
    const own = loadConfig({ GEMINI_API_KEY: 'k', GEMINI_TRANSCRIPTION_MODEL: 'm2' });
    expect(own.transcription.gemini?.model).toBe('m2');
  });

  it('refuses Gemini for OCR, as the default or for a subtype, without a key or a Vertex project', () => {
    expect(() => loadConfig({ OCR_ENGINE: 'gemini' })).toThrow(
      /OCR_ENGINE \("gemini"\): needs GEMINI_API_KEY or GEMINI_VERTEX_PROJECT/,
    );
    expect(() => loadConfig({ OCR_ENGINE_BY_SUBTYPE: 'pravachan=gemini,general=tesseract' })).toThrow(
      /OCR_ENGINE_BY_SUBTYPE \(pravachan=gemini\): needs GEMINI_API_KEY or GEMINI_VERTEX_PROJECT/,
    );
    const withKey = loadConfig({ OCR_ENGINE_BY_SUBTYPE: 'pravachan=gemini', GEMINI_API_KEY: 'k' });
    expect(withKey.ocr.engineBySubtype).toEqual({ pravachan: 'gemini' });
    expect(loadConfig({ OCR_ENGINE: 'gemini', GEMINI_VERTEX_PROJECT: 'p' }).ocr.engine).toBe('gemini');
  });

  it('configures Gemini through Vertex AI with a project (and optional service-account file) instead of a key', () => {
    const config = loadConfig({
      TRANSCRIPTION_ENGINE: 'gemini',
      GEMINI_VERTEX_PROJECT: 'my-project',
      GEMINI_VERTEX_CREDENTIALS_FILE: '/etc/dt/sa.json',
    });
    const vertex = { project: 'my-project', location: 'us-central1', credentialsFile: '/etc/dt/sa.json' };
    expect(config.gemini).toMatchObject({ vertex });
    expect(config.gemini?.apiKey).toBeUndefined();
    expect(config.transcription.gemini).toMatchObject({ vertex });
  });

  it('lets the CLI override the role', () => {
    expect(loadConfig({ SERVICE_ROLE: 'api' }, { SERVICE_ROLE: 'worker' }).role).toBe('worker');
  });

  it('is documented variable by variable in docs/configuration.md', () => {
    const doc = readFileSync(new URL('../../docs/configuration.md', import.meta.url), 'utf8');
    expect(CONFIG_VARIABLES.filter((name) => !doc.includes(`\`${name}\``))).toEqual([]);
  });
});

describe('loadConfig: authentication and CORS', () => {
  const problemsOf = (env: Record<string, string>): string[] => {
    try {
      loadConfig(env);
      return [];
    } catch (error) {
      return (error as ConfigError).problems;
    }
  };

  it('keeps local mode on loopback unless told otherwise', () => {
    expect(loadConfig({ HOST: '::1' }).auth.oidc).toBeNull();
    expect(loadConfig({ HOST: 'localhost' }).http.host).toBe('localhost');
    expect(problemsOf({ HOST: '0.0.0.0' }).join()).toContain('HOST');
    expect(problemsOf({ HOST: '192.168.1.5' }).join()).toContain('HOST');
    expect(loadConfig({ HOST: '0.0.0.0', AUTH_ALLOW_INSECURE_LOCAL: 'true' }).auth.allowInsecureLocal).toBe(
      true,
    );
  });

  it('binds anywhere once an identity provider with allowed users is configured', () => {
    const config = loadConfig({
      HOST: '0.0.0.0',
      AUTH_OIDC_ISSUER: 'https://accounts.google.com',
      AUTH_OIDC_CLIENT_ID: 'client',
      AUTH_ALLOWED_DOMAINS: '@Example.org',
      AUTH_ADMIN_EMAILS: 'Admin@Example.org',
    });
    expect(config.auth.oidc).toMatchObject({
      issuer: 'https://accounts.google.com',
      algorithms: ['RS256', 'ES256'],
    });
    expect(config.auth.allowedDomains).toEqual(['example.org']);
    expect(config.auth.adminEmails).toEqual(['admin@example.org']);
  });

  it('takes Google as the issuer when only a client id is given; a JWKS URL alone is refused', () => {
    const config = loadConfig({
      AUTH_OIDC_CLIENT_ID: 'client.apps.googleusercontent.com',
      AUTH_ALLOW_ALL_USERS: 'true',
    });
    expect(config.auth.oidc).toMatchObject({
      issuer: 'https://accounts.google.com',
      clientId: 'client.apps.googleusercontent.com',
    });
    expect(problemsOf({ AUTH_OIDC_JWKS_URL: 'https://idp.example/jwks' }).join()).toContain(
      'AUTH_OIDC_CLIENT_ID (unset): required with AUTH_OIDC_JWKS_URL',
    );
  });

  it('refuses an http issuer off loopback, unknown or symmetric algorithms', () => {
    const base = { AUTH_OIDC_CLIENT_ID: 'c', AUTH_ALLOW_ALL_USERS: 'true' };
    expect(problemsOf({ ...base, AUTH_OIDC_ISSUER: 'http://idp.example' }).join()).toContain(
      'AUTH_OIDC_ISSUER',
    );
    expect(loadConfig({ ...base, AUTH_OIDC_ISSUER: 'http://127.0.0.1:9000' }).auth.oidc).not.toBeNull();
    for (const alg of ['none', 'HS256']) {
      expect(
        problemsOf({ ...base, AUTH_OIDC_ISSUER: 'https://idp.example', AUTH_OIDC_ALGORITHMS: alg }).join(),
      ).toContain('AUTH_OIDC_ALGORITHMS');
    }
  });

  it('takes exact CORS origins and refuses a wildcard with credentials', () => {
    expect(loadConfig({ CORS_ORIGINS: 'https://a.example, http://localhost:5173' }).cors.origins).toEqual([
      'https://a.example',
      'http://localhost:5173',
    ]);
    expect(problemsOf({ CORS_ORIGINS: 'https://a.example/app' }).join()).toContain('CORS_ORIGINS');
    expect(problemsOf({ CORS_ORIGINS: '*', CORS_ALLOW_CREDENTIALS: 'true' }).join()).toContain(
      'CORS_ORIGINS',
    );
    expect(loadConfig({ CORS_ORIGINS: '*' }).cors.origins).toEqual(['*']);
  });
});
