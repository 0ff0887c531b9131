import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AppError } from '../../src/contract/index.js';
import {
  makeCorruptPdf,
  makeEncryptedPdf,
  makeScannedPng,
  makeTwoPagePdf,
} from '../helpers/make-document-fixtures.js';
import { pageText, runOcr } from '../helpers/run-ocr-pipeline.js';
import { characterErrorRate } from '../helpers/text-metrics.js';

let dir: string;

function run(inputPath: string, mime: string, options: { language?: string; signal?: AbortSignal } = {}) {
  return runOcr(
    { path: inputPath, mime, workDir: dir, ...(options.language ? { language: options.language } : {}) },
    {
      ...(options.signal ? { signal: options.signal } : {}),
      defaults: { policy: 'force_ocr', searchablePdf: false },
    },
  );
}

beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'dt-ocr-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('OCR pipeline (tesseract, real files)', () => {
  it('OCRs an English page and a Devanagari page of a PDF within 2 % CER each, with page markers', async () => {
    const pdf = await makeTwoPagePdf(dir);
    const { result, updates } = await run(pdf.path, 'application/pdf');
    const txt = String(result.outputs.txt);
    expect(txt).toMatch(/^--- page 1 ---\n/);
    expect(txt).toContain('--- page 2 ---');
    expect(characterErrorRate(pdf.pages[0], pageText(txt, 1))).toBeLessThanOrEqual(0.02);
    expect(characterErrorRate(pdf.pages[1], pageText(txt, 2))).toBeLessThanOrEqual(0.02);
    expect(result.page_count).toBe(2);
    expect(result.pages_by_source).toEqual({ text_layer: 0, ocr: 2, none: 0 });
    expect(result.engine).toMatch(/^tesseract \d/);
    expect(JSON.parse(String(result.outputs.json)).pages).toHaveLength(2);
    const progress = updates.map((u) => u.progress);
    expect(progress).toEqual([...progress].sort((a, b) => a - b));
    expect(updates.map((u) => u.stage)).toContain('saving results');
  });

  it('reads a scanned-looking PNG within 2 % CER', async () => {
    const scan = await makeScannedPng(dir);
    const { result } = await run(scan.path, 'image/png', { language: 'eng' });
    expect(characterErrorRate(scan.text, pageText(String(result.outputs.txt), 1))).toBeLessThanOrEqual(0.02);
    expect(result.quality?.score).toBeGreaterThan(0.6);
  });

  it('fails a damaged PDF as INPUT_UNREADABLE and a locked one as PDF_ENCRYPTED, both not retryable', async () => {
    const damaged = await run(await makeCorruptPdf(dir), 'application/pdf').catch((e: unknown) => e);
    expect(damaged).toMatchObject({ code: 'INPUT_UNREADABLE', retryable: false });
    const locked = await run(await makeEncryptedPdf(dir), 'application/pdf').catch((e: unknown) => e);
    expect(locked).toMatchObject({ code: 'PDF_ENCRYPTED', retryable: false });
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
