import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { ApiError, FinishReason, GoogleGenAI } from '@google/genai';
import { AppError } from '../../contract/index.js';
import { runChildProcess } from '../../process/run-child-process.js';
import { toolFailure } from '../../process/tool-failure.js';
import { geminiRetryDelayMs } from './gemini-retry-delay.js';
import type { OcrEngine, RecognizedPage, RecognizeOptions } from './ocr-engine.js';

export interface GeminiEngineOptions {
  apiKey: string;
  model: string;
  /** Another endpoint speaking the Gemini REST API (a proxy, or a test's loopback server). */
  baseUrl?: string;
  maxOutputTokens: number;
  timeoutMs: number;
  /** Directory of `<content_subtype>.md` prompts; default: the repository's `prompts/ocr`. */
  promptDir?: string;
}

/** Image types the Gemini API accepts inline; others are converted to PNG first. */
const INLINE_TYPES: Readonly<Record<string, string>> = {
  '.png': 'image/png',
  '.jpg': 'image/jpeg',
  '.jpeg': 'image/jpeg',
  '.webp': 'image/webp',
};

/** The repository's prompt folder, found from this module whether it runs from src/ or dist/. */
function defaultPromptDir(): string {
  let dir = path.dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 6; i++) {
    const candidate = path.join(dir, 'prompts', 'ocr');
    if (existsSync(candidate)) return candidate;
    dir = path.dirname(dir);
  }
  throw new Error('prompts/ocr not found next to the program');
}

/**
 * Gemini through the official SDK: one page image per request, the prompt of the job's content
 * subtype, temperature 0. A truncated answer (MAX_TOKENS) is kept and flagged; an empty answer is
 * asked once more, then flagged; 429 becomes ENGINE_RATE_LIMITED for the worker's retry policy
 * (no waiting inside the job).
 */
export class GeminiEngine implements OcrEngine {
  readonly name = 'gemini';
  private readonly client: GoogleGenAI;
  private readonly promptDir: string;
  private readonly prompts = new Map<string, Promise<string>>();

  constructor(private readonly options: GeminiEngineOptions) {
    this.client = new GoogleGenAI({
      apiKey: options.apiKey,
      httpOptions: {
        ...(options.baseUrl ? { baseUrl: options.baseUrl } : {}),
        timeout: options.timeoutMs,
        // Retries belong to the job queue (backoff across attempts), never to a sleeping worker.
        retryOptions: { attempts: 1 },
      },
    });
    this.promptDir = options.promptDir ?? defaultPromptDir();
  }

  async version(): Promise<string> {
    return this.options.model;
  }

  async installedLanguages(): Promise<string[]> {
    return [];
  }

  /** Gemini reads any language; the job's language list is only a hint in the prompt. */
  async assertLanguages(): Promise<void> {}

  private prompt(subtype: string): Promise<string> {
    const name =
      /^[a-z_]+$/.test(subtype) && existsSync(path.join(this.promptDir, `${subtype}.md`))
        ? subtype
        : 'general';
    let prompt = this.prompts.get(name);
    if (!prompt) {
      prompt = readFile(path.join(this.promptDir, `${name}.md`), 'utf8');
      this.prompts.set(name, prompt);
    }
    return prompt;
  }

  private async inlineImage(
    imagePath: string,
    options: RecognizeOptions,
  ): Promise<{ data: string; mimeType: string }> {
    const mimeType = INLINE_TYPES[path.extname(imagePath).toLowerCase()];
    if (mimeType) return { data: (await readFile(imagePath)).toString('base64'), mimeType };
    // TIFF, BMP and files without a telling name: greyscale PNG through ffmpeg.
    try {
      const { stdout } = await runChildProcess(
        'ffmpeg',
        [
          '-nostdin',
          '-v',
          'error',
          '-i',
          imagePath,
          '-frames:v',
          '1',
          '-pix_fmt',
          'gray',
          '-f',
          'image2pipe',
          '-c:v',
          'png',
          '-',
        ],
        { timeoutMs: 60_000, ...(options.signal ? { signal: options.signal } : {}) },
      );
      return { data: stdout.toString('base64'), mimeType: 'image/png' };
    } catch (error) {
      throw toolFailure(error, 'OCR_ENGINE_FAILED');
    }
  }

  async recognize(imagePath: string, options: RecognizeOptions): Promise<RecognizedPage> {
    const prompt = await this.prompt(options.contentSubtype ?? 'general');
    const image = await this.inlineImage(imagePath, options);
    const languageHint = `\n\nExpected languages (tesseract codes): ${options.languages}.`;
    let answer = await this.ask(`${prompt}${languageHint}`, image, options.signal);
    if (answer.text.trim() === '' && !answer.truncated) {
      await options.extraWork?.spend('ocr_empty_answer_retry');
      answer = await this.ask(`${prompt}${languageHint}`, image, options.signal);
    }
    const text = answer.text.trim();
    const warnings: string[] = [];
    if (answer.truncated) warnings.push('truncated');
    if (text === '') warnings.push('empty_answer');
    return {
      text,
      // Gemini gives no word confidences: a page is flagged by its warnings instead.
      meanConfidence: null,
      languagesUsed: options.languages,
      wordCount: text.split(/\s+/).filter(Boolean).length,
      ...(warnings.length > 0 ? { warnings } : {}),
    };
  }

  private async ask(
    prompt: string,
    image: { data: string; mimeType: string },
    signal: AbortSignal | undefined,
  ): Promise<{ text: string; truncated: boolean }> {
    try {
      const response = await this.client.models.generateContent({
        model: this.options.model,
        contents: [{ role: 'user', parts: [{ text: prompt }, { inlineData: image }] }],
        config: {
          temperature: 0,
          maxOutputTokens: this.options.maxOutputTokens,
          ...(signal ? { abortSignal: signal } : {}),
        },
      });
      const candidate = response.candidates?.[0];
      return {
        text: response.text ?? '',
        truncated: candidate?.finishReason === FinishReason.MAX_TOKENS,
      };
    } catch (error) {
      if (signal?.aborted) throw new AppError('JOB_CANCELLED', undefined, { cause: error });
      if (error instanceof ApiError) {
        if (error.status === 429) {
          throw new AppError('ENGINE_RATE_LIMITED', 'Gemini answered 429: rate limit or quota reached.', {
            cause: error,
            details: {
              engine: 'gemini',
              status: 429,
              // The provider's own retry-after: the worker's retry policy waits at least this long.
              ...retryAfter(geminiRetryDelayMs(error.message)),
            },
          });
        }
        if (error.status === 401 || error.status === 403) {
          throw new AppError('ENGINE_UNAVAILABLE', 'Gemini refused the API key.', {
            cause: error,
            details: { engine: 'gemini', status: error.status },
          });
        }
        throw new AppError('OCR_ENGINE_FAILED', `Gemini answered ${error.status}.`, {
          cause: error,
          details: { engine: 'gemini', status: error.status },
        });
      }
      throw new AppError('OCR_ENGINE_FAILED', 'Gemini could not be reached.', { cause: error });
    }
  }
}

function retryAfter(ms: number | undefined): { retry_after_ms?: number } {
  return ms === undefined ? {} : { retry_after_ms: ms };
}
