import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AppError } from '../../src/contract/index.js';
import { TesseractEngine } from '../../src/engines/ocr/tesseract-engine.js';
import { createOcrPipeline } from '../../src/pipelines/ocr/run-ocr-pipeline.js';
import type { PipelineResult, ProgressUpdate } from '../../src/pipelines/pipeline.js';
import {
  makeCorruptPdf,
  makeEncryptedPdf,
  makeScannedPng,
  makeTwoPagePdf,
} from '../helpers/make-document-fixtures.js';
import { characterErrorRate } from '../helpers/text-metrics.js';

let dir: string;
const pipeline = createOcrPipeline({ engine: new TesseractEngine(), dpi: 300, pageTimeoutSec: 120 });

async function run(
  inputPath: string,
  inputMime: string,
  options: { language?: string; signal?: AbortSignal } = {},
): Promise<{ result: PipelineResult; updates: ProgressUpdate[] }> {
  const updates: ProgressUpdate[] = [];
  const result = await pipeline(
    {
      jobId: 'j',
      inputPath,
      inputMime,
      language: options.language ?? 'hin+eng',
      contentSubtype: 'general',
      workDir: dir,
    },
    {
      signal: options.signal ?? new AbortController().signal,
      logger: pino({ level: 'silent' }),
      reportProgress: async (update) => {
        updates.push(update);
      },
    },
  );
  return { result, updates };
}

function pageText(txt: string, page: number): string {
  return txt.split(/^--- page \d+ ---$/m)[page] ?? '';
}

beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'dt-ocr-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('OCR pipeline (tesseract, real files)', () => {
  it('reads an English page and a Devanagari page of a PDF within 2 % CER each, with page markers', async () => {
    const pdf = await makeTwoPagePdf(dir);
    const { result, updates } = await run(pdf.path, 'application/pdf');
    const txt = String(result.outputs.txt);
    expect(txt).toMatch(/^--- page 1 ---\n/);
    expect(txt).toContain('--- page 2 ---');
    expect(characterErrorRate(pdf.pages[0], pageText(txt, 1))).toBeLessThanOrEqual(0.02);
    expect(characterErrorRate(pdf.pages[1], pageText(txt, 2))).toBeLessThanOrEqual(0.02);
    expect(result.page_count).toBe(2);
    expect(result.engine).toMatch(/^tesseract \d/);
    expect(JSON.parse(String(result.outputs.json)).pages).toHaveLength(2);
    const progress = updates.map((u) => u.progress);
    expect(progress).toEqual([...progress].sort((a, b) => a - b));
    expect(updates.map((u) => u.stage)).toContain('page 2 of 2');
  });

  it('reads a scanned-looking PNG within 2 % CER', async () => {
    const scan = await makeScannedPng(dir);
    const { result } = await run(scan.path, 'image/png');
    expect(characterErrorRate(scan.text, pageText(String(result.outputs.txt), 1))).toBeLessThanOrEqual(0.02);
    expect(result.quality?.score).toBeGreaterThan(0.6);
  });

  it('fails a damaged PDF as INPUT_UNREADABLE and a locked one as PDF_ENCRYPTED', async () => {
    await expect(run(await makeCorruptPdf(dir), 'application/pdf')).rejects.toMatchObject({
      code: 'INPUT_UNREADABLE',
    });
    await expect(run(await makeEncryptedPdf(dir), 'application/pdf')).rejects.toMatchObject({
      code: 'PDF_ENCRYPTED',
    });
  });

  it('fails fast on a language that is not installed, naming the installed ones', async () => {
    const pdf = await makeTwoPagePdf(dir);
    const error = await run(pdf.path, 'application/pdf', { language: 'xyz' }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(AppError);
    expect(error).toMatchObject({ code: 'OCR_LANGUAGE_UNAVAILABLE', details: { missing: ['xyz'] } });
    expect((error as AppError).details?.installed).toEqual(expect.arrayContaining(['eng', 'hin']));
  });

  it('stops with JOB_CANCELLED when its signal is aborted', async () => {
    const pdf = await makeTwoPagePdf(dir);
    const controller = new AbortController();
    setImmediate(() => controller.abort());
    await expect(run(pdf.path, 'application/pdf', { signal: controller.signal })).rejects.toMatchObject({
      code: 'JOB_CANCELLED',
    });
  });
});
