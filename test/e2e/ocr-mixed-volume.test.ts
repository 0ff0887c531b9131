import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Job } from '../../src/contract/index.js';
import { type MixedPageKind, makeThirtyPageMixedPdf } from '../helpers/make-ocr-fixtures.js';
import { startTestService, submitFile, type TestService, waitForJob } from '../helpers/test-service.js';
import { characterErrorRate } from '../helpers/text-metrics.js';

const run = promisify(execFile);
// Modest resolution keeps 18 OCRed pages quick; 200 dpi is still ample for 13 pt text.
const DPI = 200;
const MAX_CER: Record<MixedPageKind, number> = {
  'digital-en': 0,
  'digital-hi': 0.02,
  'scan-clean': 0.02,
  'scan-noisy': 0.06,
};

let svc: TestService;
let dir: string;
let volume: Awaited<ReturnType<typeof makeThirtyPageMixedPdf>>;
let job: Job;
let json: {
  pages: Array<{ page: number; source: string; reason?: string; text: string; languages?: string }>;
};

async function download(format: string): Promise<Buffer> {
  const response = await fetch(`${svc.url}/v1/jobs/${job.job_id}/result?format=${format}`);
  expect(response.status).toBe(200);
  return Buffer.from(await response.arrayBuffer());
}

beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'dt-mixed30-'));
  svc = await startTestService('mixed30', { OCR_PAGES_IN_FLIGHT: '2', OCR_DPI: String(DPI) });
  volume = await makeThirtyPageMixedPdf(dir, { scanDpi: DPI });
  const response = await submitFile(svc.url, {
    name: 'mixed volume.pdf',
    bytes: await readFile(volume.path),
  });
  expect(response.status).toBe(201);
  const submitted = (await response.json()) as Job;
  job = await waitForJob(svc.url, submitted.job_id, undefined, 150_000);
  json = JSON.parse((await download('json')).toString('utf8')) as typeof json;
}, 200_000);
afterAll(async () => {
  await svc?.close();
  await rm(dir, { recursive: true, force: true });
});

describe('a 30-page mixed volume (born-digital English and Devanagari, clean and noisy scans) under auto', () => {
  it('completes and counts the pages by source on the job', () => {
    expect(job).toMatchObject({ status: 'COMPLETED', page_count: 30, error_code: null });
    // 12 English text layers kept; 6 Devanagari text layers and 12 scans OCRed.
    expect(job.pages_by_source).toEqual({ text_layer: 12, ocr: 18, none: 0 });
  });

  it('takes each page from the right source, Devanagari pages OCRed with the Hindi model', () => {
    for (const [i, expected] of volume.pages.entries()) {
      const page = json.pages[i];
      expect(page?.page).toBe(i + 1);
      if (expected.kind === 'digital-en') {
        expect(page).toMatchObject({ source: 'text_layer' });
      } else if (expected.kind === 'digital-hi') {
        expect(page).toMatchObject({ source: 'ocr', reason: 'devanagari', languages: 'hin' });
      } else {
        expect(page).toMatchObject({ source: 'ocr', reason: 'empty' });
      }
    }
  });

  it('reads every page within its CER bound: exact text layers, ≤ 2 % on clean pages, ≤ 6 % on noisy scans', () => {
    const misses = volume.pages
      .map((expected, i) => ({
        page: i + 1,
        kind: expected.kind,
        cer: characterErrorRate(expected.text, json.pages[i]?.text ?? ''),
      }))
      .filter((p) => p.cer > MAX_CER[p.kind]);
    expect(misses).toEqual([]);
  });

  it("gives a searchable PDF whose scanned pages' text layer extracts back as the OCR text", async () => {
    const pdf = path.join(dir, 'searchable.pdf');
    await writeFile(pdf, await download('pdf'));
    const { stdout: info } = await run('pdfinfo', [pdf]);
    expect(info).toMatch(/^Pages:\s+30$/m);
    for (const [i, expected] of volume.pages.entries()) {
      if (!expected.kind.startsWith('scan')) continue;
      const { stdout } = await run('pdftotext', ['-f', String(i + 1), '-l', String(i + 1), pdf, '-']);
      expect(characterErrorRate(json.pages[i]?.text ?? '', stdout)).toBeLessThanOrEqual(0.02);
    }
  });
});
