import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { ApiError, GoogleGenAI, type GoogleGenAIOptions } from '@google/genai';
import { AppError, type ErrorCode } from '../contract/index.js';
import { geminiRetryDelayMs } from './ocr/gemini-retry-delay.js';

/** Shared by the Gemini OCR and speech engines: one way to build the client, read prompts and classify errors. */
export interface GeminiClientSettings {
  /** Gemini API (AI Studio) key; unused when `vertex` is set. */
  apiKey?: string;
  /** Vertex AI instead of an API key: a Google Cloud project and region, with a service account. */
  vertex?: GeminiVertexSettings;
  /** Another endpoint speaking the Gemini REST API (a proxy, or a test's loopback server). */
  baseUrl?: string;
  timeoutMs: number;
}

export interface GeminiVertexSettings {
  project: string;
  location: string;
  /** Service-account key file; without it, Application Default Credentials (GOOGLE_APPLICATION_CREDENTIALS, metadata server). */
  credentialsFile?: string;
  /** An already authorised client (embedders, tests); wins over `credentialsFile`. */
  authClient?: NonNullable<GoogleGenAIOptions['googleAuthOptions']>['authClient'];
}

export function createGeminiClient(settings: GeminiClientSettings): GoogleGenAI {
  const auth = settings.vertex
    ? {
        vertexai: true,
        project: settings.vertex.project,
        location: settings.vertex.location,
        googleAuthOptions: {
          scopes: ['https://www.googleapis.com/auth/cloud-platform'],
          ...(settings.vertex.credentialsFile ? { keyFilename: settings.vertex.credentialsFile } : {}),
          ...(settings.vertex.authClient ? { authClient: settings.vertex.authClient } : {}),
        },
      }
    : { apiKey: settings.apiKey };
  return new GoogleGenAI({
    ...auth,
    httpOptions: {
      ...(settings.baseUrl ? { baseUrl: settings.baseUrl } : {}),
      timeout: settings.timeoutMs,
      // Retries belong to the job queue (backoff across attempts), never to a sleeping worker.
      retryOptions: { attempts: 1 },
    },
  });
}

/** The repository's `prompts/<kind>` folder, found from this module whether it runs from src/ or dist/. */
export function defaultPromptDir(kind: 'ocr' | 'transcription'): string {
  let dir = path.dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 6; i++) {
    const candidate = path.join(dir, 'prompts', kind);
    if (existsSync(candidate)) return candidate;
    dir = path.dirname(dir);
  }
  throw new Error(`prompts/${kind} not found next to the program`);
}

/** `<content_subtype>.md` prompts of one folder, read once each; an unknown subtype gets `general.md`. */
export class PromptFiles {
  private readonly cache = new Map<string, Promise<string>>();

  constructor(private readonly dir: string) {}

  get(subtype: string): Promise<string> {
    const name =
      /^[a-z_]+$/.test(subtype) && existsSync(path.join(this.dir, `${subtype}.md`)) ? subtype : 'general';
    let prompt = this.cache.get(name);
    if (!prompt) {
      prompt = readFile(path.join(this.dir, `${name}.md`), 'utf8');
      this.cache.set(name, prompt);
    }
    return prompt;
  }
}

/** Catalog codes an engine gives the failures that are not shared by all Gemini engines. */
export interface GeminiErrorCodes {
  /** 401 / 403. */
  refusedKey: ErrorCode;
  /** 5xx and 408: the provider's trouble, worth another attempt. */
  serverError: ErrorCode;
  /** No HTTP answer (connection refused, reset, timeout). */
  unreachable: ErrorCode;
}

/**
 * An SDK failure → a catalog error: cancel → JOB_CANCELLED; 429 → ENGINE_RATE_LIMITED with the
 * provider's retry delay (the worker's retry policy waits at least that long); another 4xx but 408 →
 * ENGINE_REQUEST_REFUSED, not retried (the same request is refused again); others by status.
 */
export function classifyGeminiError(
  error: unknown,
  signal: AbortSignal | undefined,
  codes: GeminiErrorCodes,
): AppError {
  if (error instanceof AppError) return error;
  if (signal?.aborted) return new AppError('JOB_CANCELLED', undefined, { cause: error });
  if (error instanceof ApiError) {
    const details = { engine: 'gemini', status: error.status };
    if (error.status === 429) {
      const retryAfterMs = geminiRetryDelayMs(error.message);
      return new AppError('ENGINE_RATE_LIMITED', 'Gemini answered 429: rate limit or quota reached.', {
        cause: error,
        details: { ...details, ...(retryAfterMs === undefined ? {} : { retry_after_ms: retryAfterMs }) },
      });
    }
    if (error.status === 401 || error.status === 403) {
      return new AppError(codes.refusedKey, 'Gemini refused the API key.', { cause: error, details });
    }
    const refused = error.status >= 400 && error.status < 500 && error.status !== 408;
    const code = refused ? 'ENGINE_REQUEST_REFUSED' : codes.serverError;
    return new AppError(code, `Gemini answered ${error.status}.`, { cause: error, details });
  }
  return new AppError(codes.unreachable, 'Gemini could not be reached.', { cause: error });
}
