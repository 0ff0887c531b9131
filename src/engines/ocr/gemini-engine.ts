import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { FinishReason, type GoogleGenAI } from '@google/genai';
import { runChildProcess } from '../../process/run-child-process.js';
import { toolFailure } from '../../process/tool-failure.js';
import {
  classifyGeminiError,
  createGeminiClient,
  defaultPromptDir,
  type GeminiClientSettings,
  type GeminiErrorCodes,
  PromptFiles,
} from '../gemini-client.js';
import type { OcrEngine, RecognizedPage, RecognizeOptions } from './ocr-engine.js';

export interface GeminiEngineOptions extends GeminiClientSettings {
  model: string;
  maxOutputTokens: number;
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

/**
 * Gemini through the official SDK: one page image per request (several with `recognizeBatch`), the prompt of the job's content
 * subtype, temperature 0. A truncated answer (MAX_TOKENS) is kept and flagged; an empty answer is
 * asked once more, then flagged; 429 becomes ENGINE_RATE_LIMITED for the worker's retry policy
 * (no waiting inside the job).
 */
export class GeminiEngine implements OcrEngine {
  readonly name = 'gemini';
  private readonly client: GoogleGenAI;
  private readonly prompts: PromptFiles;

  constructor(private readonly options: GeminiEngineOptions) {
    this.client = createGeminiClient(options);
    this.prompts = new PromptFiles(options.promptDir ?? defaultPromptDir('ocr'));
  }

  async version(): Promise<string> {
    return this.options.model;
  }

  async installedLanguages(): Promise<string[]> {
    return [];
  }

  /** Gemini reads any language; the job's language list is only a hint in the prompt. */
  async assertLanguages(): Promise<void> {}

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
    const prompt = await this.fullPrompt(options);
    const image = await this.inlineImage(imagePath, options);
    let answer = await this.ask([{ text: prompt }, { inlineData: image }], options.signal);
    if (answer.text.trim() === '' && !answer.truncated) {
      await options.extraWork?.spend('ocr_empty_answer_retry');
      answer = await this.ask([{ text: prompt }, { inlineData: image }], options.signal);
    }
    return this.page(answer.text, answer.truncated, options);
  }

  /**
   * Several pages in one request: each image is introduced by its number and the answer must give
   * each page under a `=== PAGE k ===` line, in order. The answer is split on those lines and
   * checked: a page missing, repeated or out of order, the page a truncated answer stopped in, and
   * the pages after it, and an empty page are each asked again alone (with the single-page checks).
   */
  async recognizeBatch(imagePaths: readonly string[], options: RecognizeOptions): Promise<RecognizedPage[]> {
    if (imagePaths.length === 1) return [await this.recognize(imagePaths[0] as string, options)];
    const prompt = await this.fullPrompt(options);
    const parts: GeminiPart[] = [{ text: `${prompt}${batchInstructions(imagePaths.length)}` }];
    for (const [i, imagePath] of imagePaths.entries()) {
      parts.push({ text: `Page ${i + 1}:` }, { inlineData: await this.inlineImage(imagePath, options) });
    }
    const answer = await this.ask(parts, options.signal);
    const split = splitBatchAnswer(answer.text, imagePaths.length, answer.truncated);
    const pages: RecognizedPage[] = [];
    for (const [i, imagePath] of imagePaths.entries()) {
      const text = split[i];
      if (text === undefined || text.trim() === '') {
        // Asking a page of the batch again alone is an extra call: it counts toward the job's budget.
        await options.extraWork?.spend('ocr_empty_answer_retry');
        pages.push(await this.recognize(imagePath, options));
      } else {
        pages.push(this.page(text, false, options));
      }
    }
    return pages;
  }

  private async fullPrompt(options: RecognizeOptions): Promise<string> {
    const prompt = await this.prompts.get(options.contentSubtype ?? 'general');
    return `${prompt}\n\nExpected languages (tesseract codes): ${options.languages}.`;
  }

  private page(answerText: string, truncated: boolean, options: RecognizeOptions): RecognizedPage {
    const text = answerText.trim();
    const warnings: string[] = [];
    if (truncated) warnings.push('truncated');
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
    parts: GeminiPart[],
    signal: AbortSignal | undefined,
  ): Promise<{ text: string; truncated: boolean }> {
    try {
      const response = await this.client.models.generateContent({
        model: this.options.model,
        contents: [{ role: 'user', parts }],
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
      throw classifyGeminiError(error, signal, OCR_ERROR_CODES);
    }
  }
}

// Not OCR_ENGINE_FAILED: for an image, the pipeline reads that code as a damaged file (never retried).
const OCR_ERROR_CODES: GeminiErrorCodes = {
  refusedKey: 'ENGINE_UNAVAILABLE',
  serverError: 'ENGINE_UPSTREAM_ERROR',
  unreachable: 'ENGINE_UNAVAILABLE',
};

type GeminiPart = { text: string } | { inlineData: { data: string; mimeType: string } };

const PAGE_MARKER = /^=== PAGE (\d+) ===[ \t]*$/gm;

function batchInstructions(pages: number): string {
  return [
    '',
    '',
    `You are given ${pages} page images, numbered 1 to ${pages}. Transcribe each of them as above.`,
    'Start the transcription of page k with a line `=== PAGE k ===` on its own (k from 1, in order),',
    'even when a page is blank, and write nothing before the first such line.',
  ].join('\n');
}

/**
 * The text of each page of a batch answer, or undefined for a page that must be asked again: all
 * of them when the markers are not exactly 1..n in order; with a truncated answer, the page it
 * stopped in and the ones after it.
 */
export function splitBatchAnswer(
  answer: string,
  pages: number,
  truncated: boolean,
): Array<string | undefined> {
  const markers = [...answer.matchAll(PAGE_MARKER)];
  const numbers = markers.map((m) => Number(m[1]));
  const inOrder = numbers.every((n, i) => n === i + 1);
  const complete = truncated ? numbers.length <= pages : numbers.length === pages;
  const texts: Array<string | undefined> = Array.from({ length: pages }, () => undefined);
  if (!inOrder || !complete || answer.slice(0, markers[0]?.index ?? 0).trim() !== '') return texts;
  for (const [i, marker] of markers.entries()) {
    const start = (marker.index ?? 0) + marker[0].length;
    const end = markers[i + 1]?.index ?? answer.length;
    texts[i] = answer.slice(start, end).trim();
  }
  // A truncated answer stopped inside its last page: that page is asked again.
  if (truncated && markers.length > 0) texts[markers.length - 1] = undefined;
  return texts;
}
