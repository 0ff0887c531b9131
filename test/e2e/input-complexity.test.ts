import { createWriteStream } from 'node:fs';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import PDFDocument from 'pdfkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Job, Problem } from '../../src/contract/index.js';
import { makeManyPagePdf, makeScannedPng, pngClaiming } from '../helpers/make-document-fixtures.js';
import {
  startTestService,
  storedJobs,
  submitFile,
  submitThroughUploadSession,
  type TestService,
  waitForJob,
} from '../helpers/test-service.js';
import { tiffOf } from '../helpers/tiny-files.js';

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

/** A PDF of `pages` empty pages (one object each, so readers believe the count). */
function pdfOfPages(pages: number, claimedCount = pages): Buffer {
  const parts = ['%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n'];
  const kids = Array.from({ length: pages }, (_, i) => `${i + 3} 0 R`).join(' ');
  parts.push(`2 0 obj<</Type/Pages/Kids[${kids}]/Count ${claimedCount}/MediaBox[0 0 612 792]>>endobj\n`);
  for (let i = 0; i < pages; i += 1) parts.push(`${i + 3} 0 obj<</Type/Page/Parent 2 0 R>>endobj\n`);
  parts.push(`trailer<</Root 1 0 R/Size ${pages + 3}>>\n%%EOF\n`);
  return Buffer.from(parts.join(''), 'latin1');
}

/** A BMP whose header claims width × height (followed by a few bytes of pixels). */
function bmpClaiming(width: number, height: number): Buffer {
  const header = Buffer.alloc(54);
  header.write('BM', 0, 'latin1');
  header.writeUInt32LE(54 + 64, 2);
  header.writeUInt32LE(54, 10);
  header.writeUInt32LE(40, 14);
  header.writeInt32LE(width, 18);
  header.writeInt32LE(height, 22);
  header.writeUInt16LE(1, 26);
  header.writeUInt16LE(24, 28);
  return Buffer.concat([header, Buffer.alloc(64)]);
}

/** Submits a file that must be refused at upload with `code`: answers the problem; asserts nothing new is stored. */
async function expectRefusedAtUpload(bytes: Buffer, name: string, code: string): Promise<Problem> {
  const before = await storedJobs(svc);
  const response = await submitFile(svc.url, { name, bytes });
  const problem = (await response.json()) as Problem;
  expect(response.status).toBe(413);
  expect(problem.error_code).toBe(code);
  expect([...(await storedJobs(svc))].filter((id) => !before.has(id))).toEqual([]);
  return problem;
}

async function submitBytesAndWait(bytes: Buffer, name: string): Promise<Job> {
  const response = await submitFile(svc.url, { name, bytes });
  expect(response.status).toBe(201);
  return waitForJob(svc.url, ((await response.json()) as Job).job_id);
}

describe('inputs too complex to process (decompression bombs)', () => {
  it('refuses a PDF with more pages than allowed at upload (pdfinfo), storing nothing', async () => {
    const problem = await expectRefusedAtUpload(
      await readFile(await makeManyPagePdf(dir, 3)),
      'three-pages.pdf',
      'INPUT_TOO_COMPLEX',
    );
    expect(problem.detail).toContain('3 pages');
  });

  it('fails a PDF page that would render to more pixels than allowed, judged from its size', async () => {
    // 10 × 10 inches at 300 dpi: 9 million pixels, over the test's limit of 1 million.
    const job = await submitAndWait(await makeDrawingPdf(10), 'poster.pdf');
    expect(job).toMatchObject({ status: 'FAILED', error_code: 'INPUT_TOO_COMPLEX' });
    expect(job.error_message).toContain('Page 1 would be 9000000 pixels');
  });

  it('refuses an image with more pixels than allowed at upload, judged from its header', async () => {
    // A letter page scanned at 300 dpi: about 8.4 million pixels.
    const problem = await expectRefusedAtUpload(
      await readFile((await makeScannedPng(dir)).path),
      'scan.png',
      'INPUT_TOO_COMPLEX',
    );
    expect(problem.detail).toMatch(/pixels/);
  });

  it('refuses an image of 50,000 × 50,000 pixels from its header at upload, storing nothing', async () => {
    const png = await expectRefusedAtUpload(pngClaiming(50_000, 50_000), 'bomb.png', 'INPUT_TOO_COMPLEX');
    expect(png.detail).toContain('2500000000 pixels (50000 × 50000)');
    const bmp = await expectRefusedAtUpload(bmpClaiming(50_000, 50_000), 'bomb.bmp', 'INPUT_TOO_COMPLEX');
    expect(bmp.detail).toContain('2500000000 pixels');
    const tiff = await expectRefusedAtUpload(tiffOf([[50_000, 50_000]]), 'bomb.tif', 'INPUT_TOO_COMPLEX');
    expect(tiff.detail).toContain('2500000000 pixels');
  });

  it('checks every page of a TIFF, not only the first (in the worker)', async () => {
    const job = await submitBytesAndWait(
      tiffOf([
        [10, 10],
        [50_000, 50_000],
      ]),
      'two-pages.tif',
    );
    expect(job).toMatchObject({ status: 'FAILED', error_code: 'INPUT_TOO_COMPLEX', attempts: 1 });
    expect(job.error_message).toContain('Page 2 of the TIFF has 2500000000 pixels');
    const many = await submitBytesAndWait(
      tiffOf([
        [10, 10],
        [10, 10],
        [10, 10],
      ]),
      'three-pages.tif',
    );
    expect(many).toMatchObject({ status: 'FAILED', error_code: 'INPUT_TOO_COMPLEX' });
  });

  it('refuses a PDF of 100,000 pages at upload, storing nothing; one that only claims them fails in the worker', async () => {
    const problem = await expectRefusedAtUpload(
      pdfOfPages(100_000),
      'hundred-thousand.pdf',
      'INPUT_TOO_COMPLEX',
    );
    expect(problem.detail).toContain('100000 pages');
    expect(svc.logs.some((line) => line.event === 'upload.pdf_check_skipped')).toBe(false);
    // A /Count larger than the objects in the file: poppler refuses to believe it, at upload too
    // (left to the worker). The worker has qpdf rebuild the page tree from the one page really
    // there, and judges that copy like any PDF: here this test's pixel limit refuses its page 1.
    const liar = await submitBytesAndWait(pdfOfPages(1, 100_000), 'liar.pdf');
    expect(liar).toMatchObject({ status: 'FAILED', error_code: 'INPUT_TOO_COMPLEX', attempts: 1 });
    expect(liar.error_message).toContain('Page 1 would be');
    expect(svc.logs.some((line) => line.event === 'ocr.pdf.repaired')).toBe(true);
    expect(svc.logs.some((line) => line.event === 'upload.pdf_check_skipped')).toBe(true);
  });

  it('refuses the same bombs arriving through a resumable upload, and removes the session', async () => {
    for (const [filename, bytes] of [
      ['bomb.png', pngClaiming(50_000, 50_000)],
      ['hundred-thousand.pdf', pdfOfPages(100_000)],
    ] as const) {
      const before = await storedJobs(svc);
      const { uploadId, response } = await submitThroughUploadSession(svc.url, { name: filename, bytes });
      expect(response.status).toBe(413);
      expect(((await response.json()) as Problem).error_code).toBe('INPUT_TOO_COMPLEX');
      expect([...(await storedJobs(svc))].filter((id) => !before.has(id))).toEqual([]);
      // Refused for its content: the session goes with its parts.
      expect((await fetch(`${svc.url}/v1/uploads/${uploadId}`, { method: 'HEAD' })).status).toBe(404);
      const parts = await readdir(path.join(svc.dataDir, 'storage', 'uploads', uploadId)).catch(() => []);
      expect(parts).toEqual([]);
    }
  });
});
