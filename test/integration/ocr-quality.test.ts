import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hintsForPage } from '../../src/pipelines/ocr/page-hints.js';
import { tesseractHintProbe } from '../../src/pipelines/ocr/tesseract-hint-probe.js';
import {
  DEVANAGARI_FONT,
  ENGLISH_PAGES,
  HINDI_PAGES,
  LATIN_FONT,
  makeScanImage,
} from '../helpers/make-ocr-fixtures.js';
import { runOcr, tesseract } from '../helpers/run-ocr-pipeline.js';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'dt-ocr-quality-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

const weakPage = {
  text: 'some words read badly here and there on this page',
  meanConfidence: 0.4,
  languagesUsed: 'eng',
  wordCount: 10,
};

describe('page quality hints', () => {
  const probe = tesseractHintProbe(tesseract);
  const hints = (imagePath: string, languages = 'eng') =>
    hintsForPage(weakPage, {
      imagePath,
      languages,
      lowConfidence: 0.6,
      signal: new AbortController().signal,
      probe,
    });

  it('says a low-confidence page is blurry when its text edges are soft', async () => {
    const image = await makeScanImage(dir, 'blurry', ENGLISH_PAGES[0] as string, LATIN_FONT, { blur: 4 });
    expect(await hints(image)).toContain('blurry');
  });

  it('says a low-confidence page has low contrast when its ink is faded', async () => {
    const image = await makeScanImage(dir, 'faded', ENGLISH_PAGES[0] as string, LATIN_FONT, {
      contrast: 0.15,
    });
    expect(await hints(image)).toContain('low_contrast');
  });

  it('gives a sharp, contrasted page neither hint', async () => {
    const image = await makeScanImage(dir, 'sharp', ENGLISH_PAGES[0] as string, LATIN_FONT);
    const found = await hints(image);
    expect(found).not.toContain('blurry');
    expect(found).not.toContain('low_contrast');
  });

  it('costs nothing on a confident page and flags little text', async () => {
    const found = await hintsForPage(
      { text: 'Page 12', meanConfidence: 0.95, languagesUsed: 'eng', wordCount: 2 },
      {
        imagePath: '/nonexistent.png',
        languages: 'eng',
        lowConfidence: 0.6,
        signal: new AbortController().signal,
        probe,
      },
    );
    expect(found).toEqual(['little_text']);
  });

  it('suspects the wrong language when a Devanagari page is read as English', async () => {
    const image = await makeScanImage(dir, 'hindi-as-english', HINDI_PAGES[0] as string, DEVANAGARI_FONT);
    const { result, json } = await runOcr({
      path: image,
      mime: 'image/png',
      workDir: path.join(dir, 'w'),
      language: 'eng',
    });
    expect(json.pages[0]?.hints).toContain('wrong_language_suspected:Devanagari');
    expect(result.quality?.low_confidence_pages).toEqual([1]);
    expect(result.quality?.hints?.join(' ')).toMatch(/Devanagari script.*try hin/);
  });
});
