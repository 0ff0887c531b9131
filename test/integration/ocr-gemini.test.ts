import { execFile } from 'node:child_process';
import { createWriteStream } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { promisify } from 'node:util';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { GeminiEngine } from '../../src/engines/ocr/gemini-engine.js';
import {
  type GeminiLoopback,
  type RecordedRequest,
  startGeminiLoopback,
} from '../helpers/gemini-loopback-server.js';
import { LATIN_FONT, makeScanImage, makeScannedPdf } from '../helpers/make-ocr-fixtures.js';
import { pageText, runOcr } from '../helpers/run-ocr-pipeline.js';

const run = promisify(execFile);
let dir: string;
let server: GeminiLoopback;
let engine: GeminiEngine;
let scanned: { path: string; texts: string[] };
let fivePages: { path: string; texts: string[] };

beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'dt-ocr-gemini-'));
  server = await startGeminiLoopback();
  engine = new GeminiEngine({
    apiKey: 'test-key',
    model: 'gemini-test',
    baseUrl: server.baseUrl,
    maxOutputTokens: 2048,
    timeoutMs: 30_000,
  });
  scanned = await makeScannedPdf(dir, 2, { dpi: 100 });
  fivePages = await makeScannedPdf(dir, 5, { dpi: 100 });
});
beforeEach(() => {
  server.requests.length = 0;
  server.replies.length = 0;
});
afterAll(async () => {
  await server.close();
  await rm(dir, { recursive: true, force: true });
});

function runGemini(name: string, contentSubtype = 'general') {
  return runOcr(
    {
      path: scanned.path,
      mime: 'application/pdf',
      workDir: path.join(dir, name),
      contentSubtype,
      ocr: { engine: 'gemini', dpi: 100 },
    },
    { deps: { engines: { gemini: engine } } },
  );
}

async function saveOutput(output: unknown, target: string): Promise<string> {
  await pipeline(output as Readable, createWriteStream(target));
  return target;
}

async function pdfText(pdf: string, page: number): Promise<string> {
  const { stdout } = await run('pdftotext', ['-f', String(page), '-l', String(page), pdf, '-']);
  return stdout;
}

async function pdfPageCount(pdf: string): Promise<number> {
  const { stdout } = await run('pdfinfo', [pdf]);
  return Number(/^Pages:\s+(\d+)/m.exec(stdout)?.[1]);
}

async function pdfImageCount(pdf: string): Promise<number> {
  const { stdout } = await run('pdfimages', ['-list', pdf]);
  return stdout.trim().split('\n').length - 2;
}

const normalised = (text: string) => text.replace(/\s+/g, ' ').trim();

describe('Gemini OCR engine against a loopback server speaking the Gemini REST API', () => {
  it('sends one page per request with the subtype prompt at temperature 0, and takes the answers as page text', async () => {
    server.replies.push({ text: 'पहला पृष्ठ ॥ १ ॥' }, { text: 'Second page text' });
    const { result, json } = await runGemini('ok', 'jain_literature');
    expect(server.requests).toHaveLength(2);
    const [first] = server.requests;
    expect(first?.path).toBe('/v1beta/models/gemini-test:generateContent');
    expect(first?.apiKey).toBe('test-key');
    expect(first?.body.generationConfig).toMatchObject({ temperature: 0, maxOutputTokens: 2048 });
    const parts = first?.body.contents[0]?.parts ?? [];
    const prompt = await readFile(new URL('../../prompts/ocr/jain_literature.md', import.meta.url), 'utf8');
    expect(parts[0]?.text).toContain(prompt.trim());
    expect(parts[1]?.inlineData?.mimeType).toBe('image/png');
    expect(
      Buffer.from(parts[1]?.inlineData?.data ?? '', 'base64')
        .subarray(1, 4)
        .toString(),
    ).toBe('PNG');
    const txt = String(result.outputs.txt);
    expect(pageText(txt, 1).trim()).toBe('पहला पृष्ठ ॥ १ ॥');
    expect(pageText(txt, 2).trim()).toBe('Second page text');
    expect(result.engine).toBe('gemini gemini-test');
    expect(result.pages_by_source).toEqual({ text_layer: 0, ocr: 2, none: 0 });
    expect(json.pages.map((p) => p.engine)).toEqual(['gemini gemini-test', 'gemini gemini-test']);
    expect(result.quality?.low_confidence_pages).toEqual([]);
  });

  it('makes a searchable PDF from the answers: the original scanned pages with an invisible page-level text layer', async () => {
    server.replies.push({ text: 'First page of the scan\nwith a second line' }, { text: 'पहला पृष्ठ ॥ १ ॥' });
    const { result } = await runGemini('searchable');
    expect(result.outputs.pdf).toBeDefined();
    const pdf = await saveOutput(result.outputs.pdf, path.join(dir, 'gemini-searchable.pdf'));
    expect(await pdfPageCount(pdf)).toBe(2);
    expect(normalised(await pdfText(pdf, 1))).toBe('First page of the scan with a second line');
    expect(normalised(await pdfText(pdf, 2))).toBe('पहला पृष्ठ ॥ १ ॥');
    // The scanned images are kept: one image per page, as in the upload.
    expect(await pdfImageCount(pdf)).toBe(2);
  });

  it('makes a searchable PDF of an image input read by Gemini: the image as a page, the answer as its text layer', async () => {
    const png = await makeScanImage(dir, 'gemini-image', 'An image page', LATIN_FONT, { dpi: 100 });
    server.replies.push({ text: 'An image page read by Gemini' });
    const { result } = await runOcr(
      {
        path: png,
        mime: 'image/png',
        workDir: path.join(dir, 'image'),
        ocr: { engine: 'gemini' },
      },
      { deps: { engines: { gemini: engine } } },
    );
    const pdf = await saveOutput(result.outputs.pdf, path.join(dir, 'gemini-image.pdf'));
    expect(await pdfPageCount(pdf)).toBe(1);
    expect(normalised(await pdfText(pdf, 1))).toBe('An image page read by Gemini');
    expect(await pdfImageCount(pdf)).toBe(1);
  });

  it('uses the general prompt for a subtype without its own', async () => {
    await runGemini('general', 'pravachan');
    const general = await readFile(new URL('../../prompts/ocr/general.md', import.meta.url), 'utf8');
    expect(server.requests[0]?.body.contents[0]?.parts[0]?.text).toContain(general.trim());
  });

  it('turns a 429 into a retryable ENGINE_RATE_LIMITED at once, without retrying inside the job', async () => {
    server.replies.push({
      status: 429,
      error: {
        code: 429,
        message: 'Resource has been exhausted (e.g. check quota).',
        status: 'RESOURCE_EXHAUSTED',
      },
    });
    const error = await runGemini('rate-limited').catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'ENGINE_RATE_LIMITED' });
    expect((error as { retryable: boolean }).retryable).toBe(true);
    // Page 1 hit the limit; page 2 never started (one page in flight).
    expect(server.requests).toHaveLength(1);
  });

  it('fails a job Gemini refuses with a 400 at once with ENGINE_REQUEST_REFUSED, never retried', async () => {
    server.replies.push({
      status: 400,
      error: { code: 400, message: 'Request payload size exceeds the limit', status: 'INVALID_ARGUMENT' },
    });
    const error = await runGemini('refused').catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'ENGINE_REQUEST_REFUSED', retryable: false });
    expect(server.requests).toHaveLength(1);
  });

  it('keeps a 503 on an image a retryable ENGINE_UPSTREAM_ERROR, not a damaged file', async () => {
    const png = await makeScanImage(dir, 'gemini-503', 'An image page', LATIN_FONT, { dpi: 100 });
    server.replies.push({ status: 503, error: { code: 503, message: 'overloaded', status: 'UNAVAILABLE' } });
    const error = await runOcr(
      { path: png, mime: 'image/png', workDir: path.join(dir, 'image-503'), ocr: { engine: 'gemini' } },
      { deps: { engines: { gemini: engine } } },
    ).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'ENGINE_UPSTREAM_ERROR', retryable: true });
  });

  it('keeps a truncated answer but flags the page as low confidence', async () => {
    server.replies.push(
      { text: 'The beginning of a long page', finishReason: 'MAX_TOKENS' },
      { text: 'Fine page' },
    );
    const { result, json } = await runGemini('truncated');
    expect(json.pages[0]).toMatchObject({ text: 'The beginning of a long page' });
    expect(json.pages[0]?.hints).toContain('truncated');
    expect(result.quality?.low_confidence_pages).toEqual([1]);
    expect(result.quality?.hints?.join(' ')).toMatch(/Page 1 got a truncated answer/);
  });

  it('asks again for an empty page, then marks it low confidence instead of skipping it', async () => {
    server.replies.push({ text: '' }, { text: 'Recovered on the second ask' }, { text: '' }, { text: '' });
    const { result, json } = await runGemini('empty');
    expect(server.requests).toHaveLength(4);
    expect(json.pages[0]).toMatchObject({ text: 'Recovered on the second ask' });
    expect(json.pages[0]?.hints).not.toContain('empty_answer');
    expect(json.pages[1]).toMatchObject({ source: 'ocr', text: '' });
    expect(json.pages[1]?.hints).toContain('empty_answer');
    expect(result.quality?.low_confidence_pages).toEqual([2]);
    expect(String(result.outputs.txt)).toContain('--- page 2 ---');
  });
});

function runBatched(name: string, options: { jobBatch?: number; configBatch?: number }) {
  return runOcr(
    {
      path: fivePages.path,
      mime: 'application/pdf',
      workDir: path.join(dir, name),
      ocr: { engine: 'gemini', dpi: 100, ...(options.jobBatch ? { batch_pages: options.jobBatch } : {}) },
    },
    {
      deps: { engines: { gemini: engine } },
      defaults: {
        searchablePdf: false,
        ...(options.configBatch ? { cloudBatchPages: options.configBatch } : {}),
      },
    },
  );
}

const imagesIn = (request: RecordedRequest | undefined) =>
  request?.body.contents[0]?.parts.filter((p) => p.inlineData).length;

describe('Gemini page batches (several pages per request)', () => {
  it('sends the configured number of pages per request and splits the answer back per page', async () => {
    server.replies.push(
      { text: '=== PAGE 1 ===\nOne\n=== PAGE 2 ===\nTwo\n\n=== PAGE 3 ===\nThree' },
      { text: '=== PAGE 1 ===\nFour\n=== PAGE 2 ===\nFive' },
    );
    const { result, json } = await runBatched('batch-config', { configBatch: 3 });
    expect(server.requests.map(imagesIn)).toEqual([3, 2]);
    const prompt = server.requests[0]?.body.contents[0]?.parts[0]?.text ?? '';
    expect(prompt).toContain('=== PAGE k ===');
    expect(server.requests[0]?.body.contents[0]?.parts[1]?.text).toBe('Page 1:');
    expect(json.pages.map((p) => p.text)).toEqual(['One', 'Two', 'Three', 'Four', 'Five']);
    expect(result.pages_by_source).toEqual({ text_layer: 0, ocr: 5, none: 0 });
    expect(result.quality?.low_confidence_pages).toEqual([]);
  });

  it("takes the job's batch size over the configured one", async () => {
    server.replies.push(
      { text: '=== PAGE 1 ===\nOne\n=== PAGE 2 ===\nTwo' },
      { text: '=== PAGE 1 ===\nThree\n=== PAGE 2 ===\nFour' },
      { text: 'Five' },
    );
    const { json } = await runBatched('batch-job', { configBatch: 5, jobBatch: 2 });
    expect(server.requests.map(imagesIn)).toEqual([2, 2, 1]);
    expect(json.pages.map((p) => p.text)).toEqual(['One', 'Two', 'Three', 'Four', 'Five']);
  });

  it('asks each page alone when the answer does not give every page under its marker', async () => {
    server.replies.push(
      // Page 2's marker missing: the split cannot be trusted, all five pages are asked again alone.
      { text: '=== PAGE 1 ===\nOne\nTwo\n=== PAGE 3 ===\nThree\n=== PAGE 4 ===\nFour\n=== PAGE 5 ===\nFive' },
      { text: 'One' },
      { text: 'Two' },
      { text: 'Three' },
      { text: 'Four' },
      { text: 'Five' },
    );
    const { json } = await runBatched('batch-invalid', { configBatch: 5 });
    expect(server.requests.map(imagesIn)).toEqual([5, 1, 1, 1, 1, 1]);
    expect(json.pages.map((p) => p.text)).toEqual(['One', 'Two', 'Three', 'Four', 'Five']);
  });

  it('keeps the complete pages of a truncated answer and asks again the page it stopped in and those after it', async () => {
    server.replies.push(
      { text: '=== PAGE 1 ===\nOne\n=== PAGE 2 ===\nTwo\n=== PAGE 3 ===\nThr', finishReason: 'MAX_TOKENS' },
      { text: 'Three' },
      { text: 'Four' },
      { text: 'Five' },
    );
    const { result, json } = await runBatched('batch-truncated', { configBatch: 5 });
    expect(server.requests.map(imagesIn)).toEqual([5, 1, 1, 1]);
    expect(json.pages.map((p) => p.text)).toEqual(['One', 'Two', 'Three', 'Four', 'Five']);
    expect(json.pages.flatMap((p) => p.hints)).not.toContain('truncated');
    expect(result.quality?.low_confidence_pages).toEqual([]);
  });

  it('asks an empty page of a batch again alone, then marks it low confidence', async () => {
    server.replies.push(
      {
        text: '=== PAGE 1 ===\nOne\n=== PAGE 2 ===\n\n=== PAGE 3 ===\nThree\n=== PAGE 4 ===\nFour\n=== PAGE 5 ===\nFive',
      },
      { text: '' },
      { text: '' },
    );
    const { result, json } = await runBatched('batch-empty', { configBatch: 5 });
    expect(server.requests.map(imagesIn)).toEqual([5, 1, 1]);
    expect(json.pages[1]).toMatchObject({ text: '', hints: expect.arrayContaining(['empty_answer']) });
    expect(result.quality?.low_confidence_pages).toEqual([2]);
  });

  it('turns a 429 on a batch request into ENGINE_RATE_LIMITED for the retry policy', async () => {
    server.replies.push({
      status: 429,
      error: { code: 429, message: 'Resource has been exhausted', status: 'RESOURCE_EXHAUSTED' },
    });
    const error = await runBatched('batch-429', { configBatch: 5 }).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'ENGINE_RATE_LIMITED', retryable: true });
    expect(server.requests).toHaveLength(1);
  });
});
