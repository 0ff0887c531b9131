import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeManyPagePdf, pngClaiming } from '../helpers/make-document-fixtures.js';
import { runOcr } from '../helpers/run-ocr-pipeline.js';

// The worker's safety net behind the upload's checks (test/e2e/input-complexity.test.ts): a file
// that got past them (stored before they existed, or a limit lowered since) still fails at once.
let dir: string;
const limits = { maxPages: 2, maxImagePixels: 1_000_000 };

beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'dt-ocr-limits-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('the OCR pipeline refuses bombs before reading any page', () => {
  it('fails a PDF with more pages than allowed with INPUT_TOO_COMPLEX, not retryable', async () => {
    const error = await runOcr(
      { path: await makeManyPagePdf(dir, 3), mime: 'application/pdf', workDir: path.join(dir, 'pdf') },
      { defaults: limits },
    ).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'INPUT_TOO_COMPLEX', retryable: false });
    expect((error as Error).message).toContain('3 pages');
  });

  it('fails an image whose header claims 50,000 × 50,000 pixels with INPUT_TOO_COMPLEX', async () => {
    const bomb = path.join(dir, 'bomb.png');
    await writeFile(bomb, pngClaiming(50_000, 50_000));
    const error = await runOcr(
      { path: bomb, mime: 'image/png', workDir: path.join(dir, 'png') },
      { defaults: limits },
    ).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'INPUT_TOO_COMPLEX', retryable: false });
    expect((error as Error).message).toContain('2500000000 pixels');
  });
});
