import { execFile } from 'node:child_process';
import { createWriteStream } from 'node:fs';
import { copyFile, mkdir, mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { Readable } from 'node:stream';
import { pipeline as streamPipeline } from 'node:stream/promises';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/load-config.js';
import { AppError } from '../../src/contract/index.js';
import {
  DEBIAN_TESSDATA,
  defaultTessdataDir,
  npmTessdataDir,
} from '../../src/engines/ocr/default-tessdata-dir.js';
import { TesseractEngine } from '../../src/engines/ocr/tesseract-engine.js';
import { TesseractJsEngine } from '../../src/engines/ocr/tesseract-js-engine.js';
import { chooseTesseract } from '../../src/service/build-pipelines.js';
import { makeScannedPng, makeTwoPagePdf } from '../helpers/make-document-fixtures.js';
import { makeScannedPdf } from '../helpers/make-ocr-fixtures.js';
import { pageText, pdftotextPage, runOcr } from '../helpers/run-ocr-pipeline.js';
import { characterErrorRate } from '../helpers/text-metrics.js';

// The WebAssembly fallback for machines without the tesseract program, reading Debian's traineddata
// (or npm's where Debian's is absent).
const exec = promisify(execFile);
let dir: string;
const engine = new TesseractJsEngine();

beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'dt-ocr-js-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('tesseract.js fallback', () => {
  it('is chosen when the tesseract program is not on PATH, or when asked for', () => {
    expect(chooseTesseract({ tesseractRuntime: 'auto' }, () => false)).toBeInstanceOf(TesseractJsEngine);
    expect(chooseTesseract({ tesseractRuntime: 'auto' }, () => true)).toBeInstanceOf(TesseractEngine);
    expect(chooseTesseract({ tesseractRuntime: 'wasm' }, () => true)).toBeInstanceOf(TesseractJsEngine);
    expect(chooseTesseract({ tesseractRuntime: 'cli' }, () => false)).toBeInstanceOf(TesseractEngine);
  });

  it('reads a page with the npm traineddata copied into OCR_TESSDATA_DIR (gzipped, nothing downloaded)', async () => {
    const tessdata = path.join(dir, 'tessdata-from-npm');
    await mkdir(tessdata);
    await copyFile(
      path.join(npmTessdataDir(), 'eng.traineddata.gz'),
      path.join(tessdata, 'eng.traineddata.gz'),
    );
    const config = loadConfig({ OCR_TESSERACT_RUNTIME: 'wasm', OCR_TESSDATA_DIR: tessdata });
    const fromNpm = chooseTesseract(config.ocr) as TesseractJsEngine;
    expect(fromNpm.langPath).toBe(tessdata);
    expect(await fromNpm.installedLanguages()).toEqual(['eng']);

    const scan = await makeScannedPng(dir);
    const page = await fromNpm.recognize(scan.path, { languages: 'eng' });
    expect(characterErrorRate(scan.text, page.text)).toBeLessThanOrEqual(0.02);
    expect(page.meanConfidence).toBeGreaterThan(0.6);
    const hindi = await fromNpm.assertLanguages('hin+eng').catch((e: unknown) => e);
    expect(hindi).toMatchObject({ code: 'OCR_LANGUAGE_UNAVAILABLE', details: { missing: ['hin'] } });
  });

  it("falls back to the npm package's English traineddata when Debian's folder has none", async () => {
    const hiddenDebian = path.join(dir, 'no-debian-tessdata');
    await mkdir(hiddenDebian);
    expect(defaultTessdataDir(DEBIAN_TESSDATA)).toBe(DEBIAN_TESSDATA);
    expect(defaultTessdataDir(hiddenDebian)).toBe(npmTessdataDir());
    expect(defaultTessdataDir(path.join(dir, 'absent'))).toBe(npmTessdataDir());

    const fallback = new TesseractJsEngine(defaultTessdataDir(hiddenDebian));
    const scan = await makeScannedPng(dir);
    const page = await fallback.recognize(scan.path, { languages: 'eng' });
    expect(characterErrorRate(scan.text, page.text)).toBeLessThanOrEqual(0.02);
  });

  it('reads a scanned page and a Devanagari page through the OCR pipeline within 2 % CER', async () => {
    const scan = await makeScannedPng(dir);
    const png = await runOcr(
      { path: scan.path, mime: 'image/png', workDir: dir, language: 'eng' },
      { deps: { engines: { tesseract: engine }, hintProbe: undefined }, defaults: { searchablePdf: false } },
    );
    expect(characterErrorRate(scan.text, pageText(String(png.result.outputs.txt), 1))).toBeLessThanOrEqual(
      0.02,
    );
    expect(png.result.engine).toMatch(/^tesseract\.js 7/);
    expect(png.result.quality?.score).toBeGreaterThan(0.6);

    const pdf = await makeTwoPagePdf(dir);
    const hindi = await runOcr(
      { path: pdf.path, mime: 'application/pdf', workDir: dir, language: 'hin' },
      {
        deps: { engines: { tesseract: engine }, hintProbe: undefined },
        defaults: { policy: 'force_ocr', searchablePdf: false },
      },
    );
    expect(
      characterErrorRate(pdf.pages[1], pageText(String(hindi.result.outputs.txt), 2)),
    ).toBeLessThanOrEqual(0.02);
  });

  it('gives a scanned PDF a searchable pdf output whose text layer extracts back as the OCR text', async () => {
    const scanned = await makeScannedPdf(dir, 2);
    const { result, json } = await runOcr(
      { path: scanned.path, mime: 'application/pdf', workDir: path.join(dir, 'searchable'), language: 'eng' },
      { deps: { engines: { tesseract: engine }, hintProbe: undefined }, defaults: { searchablePdf: true } },
    );
    expect(result.engine).toMatch(/^tesseract\.js 7/);
    expect(result.outputs.pdf).toBeDefined();
    const out = path.join(dir, 'searchable-js.pdf');
    await streamPipeline(result.outputs.pdf as Readable, createWriteStream(out));
    const { stdout: info } = await exec('pdfinfo', [out]);
    expect(info).toMatch(/^Pages:\s+2$/m);
    for (const page of [1, 2]) {
      const stdout = await pdftotextPage(out, page);
      const ocrText = json.pages[page - 1]?.text ?? '';
      expect(ocrText.length).toBeGreaterThan(20);
      expect(characterErrorRate(ocrText, stdout), `page ${page}`).toBeLessThanOrEqual(0.02);
      expect(characterErrorRate(scanned.texts[page - 1] ?? '', stdout), `page ${page}`).toBeLessThanOrEqual(
        0.05,
      );
    }
  });

  it('refuses a language without traineddata, listing what is installed', async () => {
    const error = await engine.assertLanguages('hin+fra').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(AppError);
    expect(error).toMatchObject({ code: 'OCR_LANGUAGE_UNAVAILABLE', details: { missing: ['fra'] } });
    expect((error as AppError).message).toContain('eng');
  });

  it('stops a page at once on cancel', async () => {
    const scan = await makeScannedPng(dir);
    const controller = new AbortController();
    const pending = engine.recognize(scan.path, { languages: 'eng', signal: controller.signal });
    setTimeout(() => controller.abort(), 50);
    const error = await pending.catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'JOB_CANCELLED' });
  });
});
