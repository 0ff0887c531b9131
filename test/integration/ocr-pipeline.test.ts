import { execFile } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AppError } from '../../src/contract/index.js';
import {
  makeCorruptPdf,
  makeEncryptedPdf,
  makeScannedPng,
  makeTwoPagePdf,
} from '../helpers/make-document-fixtures.js';
import { LATIN_FONT, makeScanImage, makeScannedPdf } from '../helpers/make-ocr-fixtures.js';
import { makeRecordingTesseract } from '../helpers/make-recording-tesseract.js';
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

describe('tesseract settings per page and per job (readings recorded by a wrapper around tesseract)', () => {
  const blankImage = () => path.join(dir, 'blank.png');
  beforeAll(async () => {
    await promisify(execFile)('ffmpeg', [
      ...['-nostdin', '-v', 'error', '-y', '-f', 'lavfi', '-i', 'color=white:s=1240x1748'],
      ...['-frames:v', '1', '-pix_fmt', 'gray', blankImage()],
    ]);
  });
  const noProbe = { hintProbe: undefined };

  it('reads a page whose psm 3 reading is empty again in psm 6, and keeps the psm 6 reading', async () => {
    const tesseract = await makeRecordingTesseract(path.join(dir, 'psm3-blind'), {
      blindPsm: '3',
      blankImage: blankImage(),
    });
    const scan = await makeScannedPng(dir);
    const { result, json, logs } = await runOcr(
      { path: scan.path, mime: 'image/png', workDir: path.join(dir, 'work-psm3-blind'), language: 'eng' },
      { deps: { engines: { tesseract: tesseract.engine }, ...noProbe }, defaults: { searchablePdf: false } },
    );
    expect((await tesseract.reads()).map((r) => r.psm)).toEqual(['3', '6']);
    expect(json.pages[0]?.psm).toBe('6');
    expect(logs.find((l) => l.event === 'ocr.page.done')).toMatchObject({ psm: '6' });
    expect(characterErrorRate(scan.text, pageText(String(result.outputs.txt), 1))).toBeLessThanOrEqual(0.02);
  });

  it('re-reads a short page in psm 6 but keeps its psm 3 reading when the psm 6 one is worse', async () => {
    const tesseract = await makeRecordingTesseract(path.join(dir, 'psm6-blind'), {
      blindPsm: '6',
      blankImage: blankImage(),
    });
    // Fewer than 20 letters: weak by length however well it is read.
    const short = await makeScanImage(dir, 'short-page', 'Page 7 of 9', LATIN_FONT);
    const { json } = await runOcr(
      { path: short, mime: 'image/png', workDir: path.join(dir, 'work-psm6-blind'), language: 'eng' },
      { deps: { engines: { tesseract: tesseract.engine }, ...noProbe }, defaults: { searchablePdf: false } },
    );
    expect((await tesseract.reads()).map((r) => r.psm)).toEqual(['3', '6']);
    expect(json.pages[0]?.psm).toBe('3');
    expect(json.pages[0]?.text.trim()).toBe('Page 7 of 9');
  });

  it("renders a PDF page at the job's ocr_dpi and reads it only in the job's ocr_psm", async () => {
    const scanned = await makeScannedPdf(dir, 1);
    const read = async (name: string, ocr: { dpi?: number; psm?: '6' }) => {
      const tesseract = await makeRecordingTesseract(path.join(dir, name));
      const { json } = await runOcr(
        {
          path: scanned.path,
          mime: 'application/pdf',
          workDir: path.join(dir, `work-${name}`),
          language: 'eng',
          ocr,
        },
        {
          deps: { engines: { tesseract: tesseract.engine }, ...noProbe },
          defaults: { policy: 'force_ocr', searchablePdf: false },
        },
      );
      return { reads: await tesseract.reads(), json };
    };
    const perJob = await read('job-dpi-psm', { dpi: 150, psm: '6' });
    expect(perJob.reads.map((r) => [r.psm, r.dpi])).toEqual([['6', '150']]);
    expect(perJob.json.pages[0]?.psm).toBe('6');
    expect(characterErrorRate(scanned.texts[0] ?? '', perJob.json.pages[0]?.text ?? '')).toBeLessThanOrEqual(
      0.02,
    );

    const defaults = await read('default-dpi', {});
    expect(defaults.reads[0]).toMatchObject({ psm: '3', dpi: '300' });
    // Twice the dpi, four times the pixels.
    expect((defaults.reads[0]?.pixels ?? 0) / (perJob.reads[0]?.pixels ?? 1)).toBeCloseTo(4, 1);
  });
});
