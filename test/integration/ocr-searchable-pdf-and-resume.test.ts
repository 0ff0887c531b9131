import { execFile } from 'node:child_process';
import { createWriteStream } from 'node:fs';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { Readable } from 'node:stream';
import { pipeline as streamPipeline } from 'node:stream/promises';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AppError } from '../../src/contract/index.js';
import { checkpointPrefix } from '../../src/pipelines/ocr/page-checkpoints.js';
import { LocalDiskStorage } from '../../src/storage/local-disk-storage.js';
import { type MixedPdf, makeMixedPdf, makeScannedPdf } from '../helpers/make-ocr-fixtures.js';
import { pdftotextPage, runOcr } from '../helpers/run-ocr-pipeline.js';
import { characterErrorRate } from '../helpers/text-metrics.js';

const exec = promisify(execFile);
let dir: string;
let mixed: MixedPdf;

beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'dt-ocr-pdf-'));
  mixed = await makeMixedPdf(dir);
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('searchable PDF output', () => {
  it('keeps the original pages and adds an invisible text layer matching the OCR text on scanned pages', async () => {
    const { result, json } = await runOcr({
      path: mixed.path,
      mime: 'application/pdf',
      workDir: path.join(dir, 'w1'),
    });
    const out = path.join(dir, 'searchable.pdf');
    await streamPipeline(result.outputs.pdf as Readable, createWriteStream(out));
    const { stdout: info } = await exec('pdfinfo', [out]);
    expect(info).toMatch(/^Pages:\s+5$/m);
    // Born-digital page: its own text, unchanged and not doubled.
    expect(characterErrorRate(mixed.pages[0]?.text ?? '', await pdftotextPage(out, 1))).toBe(0);
    // Scanned pages (3–5): the text layer extracted back matches what OCR read.
    for (const page of [3, 4, 5]) {
      const ocrText = json.pages[page - 1]?.text ?? '';
      expect(characterErrorRate(ocrText, await pdftotextPage(out, page)), `page ${page}`).toBeLessThanOrEqual(
        0.02,
      );
    }
  });

  it('makes a PDF of page images with text for an image input', async () => {
    const scanned = await makeScannedPdf(dir, 1);
    const png = path.join(dir, 'page1');
    await exec('pdftoppm', ['-r', '300', '-gray', '-png', '-singlefile', scanned.path, png]);
    const { result, json } = await runOcr({
      path: `${png}.png`,
      mime: 'image/png',
      workDir: path.join(dir, 'w2'),
      language: 'eng',
    });
    const out = path.join(dir, 'from-image.pdf');
    await streamPipeline(result.outputs.pdf as Readable, createWriteStream(out));
    expect(characterErrorRate(json.pages[0]?.text ?? '', await pdftotextPage(out, 1))).toBeLessThanOrEqual(
      0.02,
    );
  });
});

describe('hOCR output', () => {
  it('joins the OCRed pages into one hOCR document with ids renumbered per page', async () => {
    const scanned = await makeScannedPdf(dir, 2, { dpi: 150 });
    const { result } = await runOcr(
      { path: scanned.path, mime: 'application/pdf', workDir: path.join(dir, 'hocr'), language: 'eng' },
      { defaults: { hocr: true, searchablePdf: false } },
    );
    const hocr = String(result.outputs.hocr);
    expect(hocr.match(/class='ocr_page'/g)).toHaveLength(2);
    expect(hocr).toContain("id='page_1'");
    expect(hocr).toContain("id='page_2'");
    expect(hocr).toContain('archive');
  });
});

describe('checkpoints and resume', () => {
  it('a retried attempt skips the pages an earlier attempt finished, and checkpoints go when the job ends', async () => {
    const scanned = await makeScannedPdf(dir, 4, { dpi: 200 });
    const storage = new LocalDiskStorage(path.join(dir, 'storage'));
    const jobId = 'resume-job';
    let pagesDone = 0;
    // The first attempt dies after two pages, as when the worker loses Redis mid-job.
    const first = await runOcr(
      {
        path: scanned.path,
        mime: 'application/pdf',
        workDir: path.join(dir, 'attempt-1'),
        language: 'eng',
        jobId,
      },
      {
        defaults: { pagesInFlight: 1 },
        deps: { checkpointStorage: storage },
        onProgress: () => {
          if (++pagesDone === 3) throw new AppError('STORAGE_UNAVAILABLE');
        },
      },
    ).catch((e: unknown) => e);
    expect(first).toMatchObject({ code: 'STORAGE_UNAVAILABLE' });
    const kept = await readdir(path.join(dir, 'storage', checkpointPrefix(jobId)));
    expect(kept.filter((f) => f.endsWith('.json'))).toEqual(['page-000001.json', 'page-000002.json']);

    const second = await runOcr(
      {
        path: scanned.path,
        mime: 'application/pdf',
        workDir: path.join(dir, 'attempt-2'),
        language: 'eng',
        jobId,
      },
      { defaults: { pagesInFlight: 2 }, deps: { checkpointStorage: storage } },
    );
    const events = (name: string) => second.logs.filter((l) => l.event === name).map((l) => l.page);
    expect(events('ocr.page.resumed')).toEqual(expect.arrayContaining([1, 2]));
    expect(events('ocr.page.resumed')).toHaveLength(2);
    expect(events('ocr.page.done').sort()).toEqual([3, 4]);
    expect(second.result.pages_by_source).toEqual({ text_layer: 0, ocr: 4, none: 0 });
    for (const [i, text] of scanned.texts.entries()) {
      expect(characterErrorRate(text, second.json.pages[i]?.text ?? '')).toBeLessThanOrEqual(0.02);
    }
    // The searchable PDF still has every page's layer, the resumed ones included.
    const out = path.join(dir, 'resumed.pdf');
    await streamPipeline(second.result.outputs.pdf as Readable, createWriteStream(out));
    expect(characterErrorRate(scanned.texts[0] ?? '', await pdftotextPage(out, 1))).toBeLessThanOrEqual(0.02);
    await expect(readdir(path.join(dir, 'storage', checkpointPrefix(jobId)))).rejects.toMatchObject({
      code: 'ENOENT',
    });
  });

  it('removes checkpoints when a cancelled job ends', async () => {
    const scanned = await makeScannedPdf(dir, 2, { dpi: 150 });
    const storage = new LocalDiskStorage(path.join(dir, 'storage-cancel'));
    const controller = new AbortController();
    const error = await runOcr(
      {
        path: scanned.path,
        mime: 'application/pdf',
        workDir: path.join(dir, 'cancel'),
        language: 'eng',
        jobId: 'cancelled',
      },
      {
        defaults: { pagesInFlight: 1 },
        deps: { checkpointStorage: storage },
        signal: controller.signal,
        onProgress: (update) => {
          if (update.stage === 'page 2 of 2') controller.abort();
        },
      },
    ).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'JOB_CANCELLED' });
    await expect(
      readdir(path.join(dir, 'storage-cancel', checkpointPrefix('cancelled'))),
    ).rejects.toMatchObject({
      code: 'ENOENT',
    });
  });
});
