import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeEncryptedPdf } from '../helpers/make-document-fixtures.js';
import {
  breakPdfStructure,
  convertImage,
  DEVANAGARI_FONT,
  ENGLISH_PAGES,
  HINDI_PAGES,
  LATIN_FONT,
  type MixedPdf,
  makeBornDigitalPdf,
  makeBrokenEncodingPdf,
  makeG4Tiff,
  makeMixedPdf,
  makeScanImage,
  truncateFile,
  writePdf,
} from '../helpers/make-ocr-fixtures.js';
import { pageText, runOcr } from '../helpers/run-ocr-pipeline.js';
import { characterErrorRate } from '../helpers/text-metrics.js';

let dir: string;
let mixed: MixedPdf;

beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'dt-ocr-inputs-'));
  mixed = await makeMixedPdf(dir);
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function work(name: string): Promise<string> {
  const workDir = path.join(dir, `work-${name}`);
  await rm(workDir, { recursive: true, force: true });
  return workDir;
}

describe('a mixed PDF (born-digital English and Devanagari, scanned pages)', () => {
  it('takes real text from the text layer, OCRs scanned and Devanagari pages, and counts pages by source', async () => {
    const { result, json } = await runOcr({
      path: mixed.path,
      mime: 'application/pdf',
      workDir: await work('auto'),
    });
    expect(json.pages.map((p) => [p.source, p.reason ?? null])).toEqual([
      ['text_layer', null],
      ['ocr', 'devanagari'],
      ['ocr', 'empty'],
      ['ocr', 'empty'],
      ['ocr', 'empty'],
    ]);
    expect(result.pages_by_source).toEqual({ text_layer: 1, ocr: 4, none: 0 });
    const txt = String(result.outputs.txt);
    for (const [i, page] of mixed.pages.entries()) {
      const limit = page.kind === 'scan-noisy' ? 0.06 : 0.02;
      expect(
        characterErrorRate(page.text, pageText(txt, i + 1)),
        `page ${i + 1} (${page.kind})`,
      ).toBeLessThanOrEqual(limit);
    }
    // The text layer is exact: taken as is.
    expect(characterErrorRate(mixed.pages[0]?.text ?? '', pageText(txt, 1))).toBe(0);
    expect(json.pages[0]).toMatchObject({ engine: 'pdf-text-layer', confidence: 1 });
    expect(json.pages[2]?.engine).toMatch(/^tesseract \d/);
    expect(result.quality?.score).toBeGreaterThan(0.8);
    expect(result.quality?.low_confidence_pages).toEqual([]);
  });

  it('under text_only never OCRs: scanned pages are counted as having no text', async () => {
    const { result, json } = await runOcr({
      path: mixed.path,
      mime: 'application/pdf',
      workDir: await work('text-only'),
      ocr: { policy: 'text_only' },
    });
    expect(result.pages_by_source).toEqual({ text_layer: 2, ocr: 0, none: 3 });
    expect(json.pages[1]?.hints).toEqual(['text_layer_devanagari']);
    expect(json.pages[2]).toMatchObject({ source: 'none', text: '', hints: ['no_text'] });
    expect(result.outputs.pdf).toBeUndefined();
  });

  it('under force_ocr OCRs every page, born-digital ones included', async () => {
    const { result } = await runOcr({
      path: mixed.path,
      mime: 'application/pdf',
      workDir: await work('force'),
      ocr: { policy: 'force_ocr' },
    });
    expect(result.pages_by_source).toEqual({ text_layer: 0, ocr: 5, none: 0 });
  });
});

describe('PDF variants', () => {
  it('OCRs a page whose text layer has a broken font encoding', async () => {
    const pdf = await makeBrokenEncodingPdf(dir);
    const { json } = await runOcr({ path: pdf.path, mime: 'application/pdf', workDir: await work('broken') });
    expect(json.pages[0]).toMatchObject({ source: 'ocr', reason: 'broken' });
    expect(characterErrorRate(pdf.text, json.pages[0]?.text ?? '')).toBeLessThanOrEqual(0.02);
  });

  it('reads a PDF encrypted with an owner password only (no password needed to open)', async () => {
    const filePath = path.join(dir, 'owner-only.pdf');
    await writePdf(filePath, [{ text: ENGLISH_PAGES[0] as string, font: LATIN_FONT }], {
      ownerPassword: 'owner-secret',
    });
    const { result } = await runOcr({
      path: filePath,
      mime: 'application/pdf',
      workDir: await work('owner'),
    });
    expect(result.pages_by_source).toEqual({ text_layer: 1, ocr: 0, none: 0 });
    expect(characterErrorRate(ENGLISH_PAGES[0] as string, pageText(String(result.outputs.txt), 1))).toBe(0);
  });

  it('fails a PDF that needs a password with PDF_ENCRYPTED, not retryable', async () => {
    const error = await runOcr({
      path: await makeEncryptedPdf(dir),
      mime: 'application/pdf',
      workDir: await work('locked'),
    }).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'PDF_ENCRYPTED' });
    expect((error as { retryable: boolean }).retryable).toBe(false);
  });

  it('repairs with qpdf a PDF poppler cannot open (broken xref, wrong page count) and reads its pages', async () => {
    const scan = await makeScanImage(dir, 'damaged-scan', ENGLISH_PAGES[1] as string, LATIN_FONT);
    const whole = path.join(dir, 'to-damage.pdf');
    await writePdf(
      whole,
      [{ text: ENGLISH_PAGES[0] as string, font: LATIN_FONT, fontSize: 13 }, { image: scan }],
      { size: [297.64, 419.53] },
    );
    const damaged = await breakPdfStructure(whole, path.join(dir, 'damaged.pdf'));
    const { result, json, logs } = await runOcr({
      path: damaged,
      mime: 'application/pdf',
      workDir: await work('damaged-pdf'),
      language: 'eng',
    });
    expect(logs.filter((l) => l.event === 'ocr.pdf.repaired')).toMatchObject([{ page_count: 2 }]);
    expect(result.page_count).toBe(2);
    expect(json.pages.map((p) => p.source)).toEqual(['text_layer', 'ocr']);
    const txt = String(result.outputs.txt);
    expect(characterErrorRate(ENGLISH_PAGES[0] as string, pageText(txt, 1))).toBe(0);
    expect(characterErrorRate(ENGLISH_PAGES[1] as string, pageText(txt, 2))).toBeLessThanOrEqual(0.02);
    expect(result.outputs.pdf).toBeDefined();
  });

  it('fails a truncated PDF with INPUT_UNREADABLE, not retryable', async () => {
    const whole = await makeBornDigitalPdf(dir, 6);
    const cut = await truncateFile(whole, path.join(dir, 'truncated.pdf'), 0.6);
    const error = await runOcr({
      path: cut,
      mime: 'application/pdf',
      workDir: await work('truncated'),
    }).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'INPUT_UNREADABLE' });
    expect((error as { retryable: boolean }).retryable).toBe(false);
  });
});

describe('image inputs', () => {
  it('reads every page of a multi-page G4 TIFF in order', async () => {
    const pages = [
      await makeScanImage(dir, 'tif-1', ENGLISH_PAGES[0] as string, LATIN_FONT),
      await makeScanImage(dir, 'tif-2', ENGLISH_PAGES[3] as string, LATIN_FONT),
    ];
    const tiff = await makeG4Tiff(dir, pages);
    const { result, json } = await runOcr({
      path: tiff,
      mime: 'image/tiff',
      workDir: await work('tiff'),
      language: 'eng',
    });
    expect(result.page_count).toBe(2);
    expect(json.pages.map((p) => p.source)).toEqual(['ocr', 'ocr']);
    const txt = String(result.outputs.txt);
    expect(characterErrorRate(ENGLISH_PAGES[0] as string, pageText(txt, 1))).toBeLessThanOrEqual(0.02);
    expect(characterErrorRate(ENGLISH_PAGES[3] as string, pageText(txt, 2))).toBeLessThanOrEqual(0.02);
  });

  it('reads a WebP scan and a BMP scan', async () => {
    const png = await makeScanImage(dir, 'formats', HINDI_PAGES[0] as string, DEVANAGARI_FONT);
    for (const [ext, mime] of [
      ['webp', 'image/webp'],
      ['bmp', 'image/bmp'],
    ] as const) {
      const image = await convertImage(png, path.join(dir, `scan.${ext}`));
      const { result } = await runOcr({ path: image, mime, workDir: await work(ext) });
      expect(
        characterErrorRate(HINDI_PAGES[0] as string, pageText(String(result.outputs.txt), 1)),
        ext,
      ).toBeLessThanOrEqual(0.02);
      expect(result.pages_by_source).toEqual({ text_layer: 0, ocr: 1, none: 0 });
    }
  });

  it('fails a damaged image with INPUT_UNREADABLE', async () => {
    const png = await makeScanImage(dir, 'damaged', ENGLISH_PAGES[0] as string, LATIN_FONT, { dpi: 100 });
    const bytes = await readFile(png);
    const damaged = path.join(dir, 'damaged.png');
    await writeFile(damaged, Buffer.concat([bytes.subarray(0, 64), Buffer.alloc(256, 7)]));
    await expect(
      runOcr({ path: damaged, mime: 'image/png', workDir: await work('damaged') }),
    ).rejects.toMatchObject({
      code: 'INPUT_UNREADABLE',
    });
  });
});
