import { mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { GeminiEngine } from '../../src/engines/ocr/gemini-engine.js';
import { type GeminiLoopback, startGeminiLoopback } from '../helpers/gemini-loopback-server.js';
import { makeScannedPdf } from '../helpers/make-ocr-fixtures.js';
import { pageText, runOcr } from '../helpers/run-ocr-pipeline.js';

let dir: string;
let server: GeminiLoopback;
let engine: GeminiEngine;
let scanned: { path: string; texts: string[] };

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
    // Gemini makes no text layer PDF.
    expect(result.outputs.pdf).toBeUndefined();
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
