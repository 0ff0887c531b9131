import { execFile } from 'node:child_process';
import { Writable } from 'node:stream';
import { promisify } from 'node:util';
import { pino } from 'pino';
import type { OcrOptions } from '../../src/contract/index.js';
import { TesseractEngine } from '../../src/engines/ocr/tesseract-engine.js';
import {
  createOcrPipeline,
  DEFAULT_OCR_OPTIONS,
  type OcrDefaults,
  type OcrPipelineDeps,
} from '../../src/pipelines/ocr/run-ocr-pipeline.js';
import { tesseractHintProbe } from '../../src/pipelines/ocr/tesseract-hint-probe.js';
import type { PipelineResult, ProgressUpdate } from '../../src/pipelines/pipeline.js';

export const tesseract = new TesseractEngine();

export interface OcrRun {
  result: PipelineResult;
  updates: ProgressUpdate[];
  /** Every log line the pipeline wrote, parsed. */
  logs: Array<Record<string, unknown>>;
  json: {
    page_count: number;
    pages_by_source: Record<string, number>;
    pages: Array<{
      page: number;
      source: string;
      text: string;
      confidence: number | null;
      engine: string | null;
      reason?: string;
      psm?: string;
      hints: string[];
    }>;
  };
}

/** Runs the OCR pipeline as the worker would, with the real tesseract and a capturing logger. */
export async function runOcr(
  input: {
    path: string;
    mime: string;
    workDir: string;
    language?: string;
    ocr?: OcrOptions;
    jobId?: string;
    contentSubtype?: string;
    lastAttempt?: boolean;
  },
  options: {
    defaults?: Partial<OcrDefaults>;
    deps?: Partial<OcrPipelineDeps>;
    signal?: AbortSignal;
    onProgress?: (update: ProgressUpdate) => Promise<void> | void;
  } = {},
): Promise<OcrRun> {
  const logs: Array<Record<string, unknown>> = [];
  const destination = new Writable({
    write(chunk: Buffer, _encoding, callback) {
      for (const line of chunk.toString('utf8').split('\n').filter(Boolean))
        logs.push(JSON.parse(line) as Record<string, unknown>);
      callback();
    },
  });
  const pipeline = createOcrPipeline({
    engines: { tesseract },
    defaults: { ...DEFAULT_OCR_OPTIONS, pagesInFlight: 1, ...options.defaults },
    hintProbe: tesseractHintProbe(tesseract),
    ...options.deps,
  });
  const updates: ProgressUpdate[] = [];
  const result = await pipeline(
    {
      jobId: input.jobId ?? 'job-1',
      inputPath: input.path,
      inputMime: input.mime,
      language: input.language ?? 'hin+eng',
      contentSubtype: input.contentSubtype ?? 'general',
      workDir: input.workDir,
      ocr: input.ocr,
      lastAttempt: input.lastAttempt,
    },
    {
      signal: options.signal ?? new AbortController().signal,
      logger: pino({ level: 'debug' }, destination),
      reportProgress: async (update) => {
        updates.push(update);
        await options.onProgress?.(update);
      },
    },
  );
  return { result, updates, logs, json: JSON.parse(String(result.outputs.json)) as OcrRun['json'] };
}

/** The text under `--- page N ---` in the txt output. */
export function pageText(txt: string, page: number): string {
  return txt.split(/^--- page \d+ ---$/m)[page] ?? '';
}

/** The text `pdftotext` extracts from one page of a PDF (UTF-8). */
export async function pdftotextPage(pdf: string, page: number): Promise<string> {
  const { stdout } = await promisify(execFile)('pdftotext', [
    '-f',
    String(page),
    '-l',
    String(page),
    '-enc',
    'UTF-8',
    pdf,
    '-',
  ]);
  return stdout;
}
