import { createWriteStream } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import PDFDocument from 'pdfkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Job } from '../../src/contract/index.js';
import { makeManyPagePdf, makeScannedPng } from '../helpers/make-document-fixtures.js';
import { startTestService, submitFile, type TestService, waitForJob } from '../helpers/test-service.js';

let svc: TestService;
let dir: string;

beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'dt-complexity-'));
  svc = await startTestService('input-complexity', { OCR_MAX_PAGES: '2', OCR_MAX_IMAGE_PIXELS: '1000000' });
});
afterAll(async () => {
  await svc?.close();
  await rm(dir, { recursive: true, force: true });
});

/** A one-page PDF without text (so its page must be rendered), `inches` square. */
async function makeDrawingPdf(inches: number): Promise<string> {
  const filePath = path.join(dir, `drawing-${inches}in.pdf`);
  const doc = new PDFDocument({ size: [inches * 72, inches * 72] });
  const done = new Promise<void>((resolve, reject) => {
    const out = doc.pipe(createWriteStream(filePath));
    out.on('finish', resolve);
    out.on('error', reject);
  });
  doc.rect(36, 36, 72, 72).fill('#000');
  doc.end();
  await done;
  return filePath;
}

async function submitAndWait(filePath: string, name: string): Promise<Job> {
  const response = await submitFile(svc.url, { name, bytes: await readFile(filePath) });
  expect(response.status).toBe(201);
  return waitForJob(svc.url, ((await response.json()) as Job).job_id);
}

describe('inputs too complex to process (decompression bombs)', () => {
  it('fails a PDF with more pages than allowed before rendering any, without retrying', async () => {
    const job = await submitAndWait(await makeManyPagePdf(dir, 3), 'three-pages.pdf');
    expect(job).toMatchObject({ status: 'FAILED', error_code: 'INPUT_TOO_COMPLEX', attempts: 1 });
    expect(job.error_message).toContain('3 pages');
  });

  it('fails a PDF page that would render to more pixels than allowed, judged from its size', async () => {
    // 10 × 10 inches at 300 dpi: 9 million pixels, over the test's limit of 1 million.
    const job = await submitAndWait(await makeDrawingPdf(10), 'poster.pdf');
    expect(job).toMatchObject({ status: 'FAILED', error_code: 'INPUT_TOO_COMPLEX' });
    expect(job.error_message).toContain('Page 1 would be 9000000 pixels');
  });

  it('fails an image with more pixels than allowed, judged from its header', async () => {
    // A letter page scanned at 300 dpi: about 8.4 million pixels.
    const job = await submitAndWait((await makeScannedPng(dir)).path, 'scan.png');
    expect(job).toMatchObject({ status: 'FAILED', error_code: 'INPUT_TOO_COMPLEX' });
    expect(job.error_message).toMatch(/pixels/);
  });
});
