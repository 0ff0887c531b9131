import { execFile } from 'node:child_process';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { OcrEngine, RecognizeOptions } from '../../src/engines/ocr/ocr-engine.js';
import { makeScannedPdf } from '../helpers/make-ocr-fixtures.js';
import { runOcr } from '../helpers/run-ocr-pipeline.js';

const run = promisify(execFile);
let dir: string;

beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'dt-ocr-limits-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** A typed stand-in engine that records the options each page was given (no OCR needed here). */
function recordingEngine(): OcrEngine & { seen: RecognizeOptions[] } {
  const seen: RecognizeOptions[] = [];
  return {
    name: 'recording',
    seen,
    version: async () => '1',
    installedLanguages: async () => ['eng'],
    assertLanguages: async () => {},
    recognize: async (_path, options) => {
      seen.push(options);
      return { text: 'some words on the page', meanConfidence: 0.9, languagesUsed: 'eng', wordCount: 5 };
    },
  };
}

async function blankImage(name: string, width: number, height: number): Promise<string> {
  const out = path.join(dir, name);
  await run(
    'ffmpeg',
    ['-nostdin', '-v', 'error', '-y', '-f', 'lavfi', '-i', `color=white:s=${width}x${height}`].concat([
      '-frames:v',
      '1',
      '-pix_fmt',
      'gray',
      out,
    ]),
  );
  return out;
}

/** Pids of this process's children running `name`. */
async function childrenNamed(name: string): Promise<number[]> {
  const pids: number[] = [];
  for (const entry of await readdir('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const status = await readFile(`/proc/${entry}/status`, 'utf8').catch(() => '');
    const comm = /^Name:\s+(\S+)/m.exec(status)?.[1];
    const ppid = Number(/^PPid:\s+(\d+)/m.exec(status)?.[1]);
    if (comm === name && ppid === process.pid) pids.push(Number(entry));
  }
  return pids;
}

async function until<T>(probe: () => Promise<T | undefined>, timeoutMs: number): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const value = await probe();
    if (value !== undefined) return value;
    await sleep(20);
  }
  throw new Error('condition not reached before the deadline');
}

describe('page timeout proportional to the page size', () => {
  it('gives each page a timeout scaled by its pixels, whatever the image format', async () => {
    const engine = recordingEngine();
    const cases = [
      // Four A4 pages' worth of pixels at 300 dpi: four times the configured seconds.
      { file: await blankImage('large.jpg', 4960, 7016), mime: 'image/jpeg', expected: 4 * 60_000 },
      { file: await blankImage('a4.webp', 2480, 3508), mime: 'image/webp', expected: 60_000 },
      // A small image: never under a quarter.
      { file: await blankImage('small.bmp', 600, 400), mime: 'image/bmp', expected: 15_000 },
    ];
    for (const [i, c] of cases.entries()) {
      await runOcr(
        { path: c.file, mime: c.mime, workDir: path.join(dir, `timeout-${i}`), language: 'eng' },
        { deps: { engines: { tesseract: engine }, hintProbe: undefined }, defaults: { pageTimeoutSec: 60 } },
      );
    }
    expect(engine.seen.map((o) => o.timeoutMs)).toEqual(cases.map((c) => c.expected));
  });
});

describe('a page over its timeout', () => {
  it('stops tesseract and fails the attempt with PROCESSING_TIMEOUT, retryable', async () => {
    const scanned = await makeScannedPdf(dir, 1);
    // 20 ms for an A4 page: this A6 page gets the 5 ms floor, far less than tesseract needs to start.
    const error = await runOcr(
      { path: scanned.path, mime: 'application/pdf', workDir: path.join(dir, 'timeout'), language: 'eng' },
      { defaults: { pageTimeoutSec: 0.02, searchablePdf: false } },
    ).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'PROCESSING_TIMEOUT', retryable: true });
    expect(await childrenNamed('tesseract')).toEqual([]);
  });
});

describe('cancel during OCR', () => {
  it('kills the running tesseract processes at once and ends with JOB_CANCELLED', async () => {
    const scanned = await makeScannedPdf(dir, 6);
    const controller = new AbortController();
    const running = runOcr(
      { path: scanned.path, mime: 'application/pdf', workDir: path.join(dir, 'cancel'), language: 'eng' },
      { signal: controller.signal, defaults: { pagesInFlight: 2, searchablePdf: false } },
    ).catch((error: unknown) => error);
    const pids = await until(async () => {
      const found = await childrenNamed('tesseract');
      return found.length > 0 ? found : undefined;
    }, 30_000);
    controller.abort();
    expect(await running).toMatchObject({ code: 'JOB_CANCELLED' });
    // Every tesseract seen running is gone, and none was started after the cancel.
    await until(async () => {
      const alive = await Promise.all(
        pids.map((pid) =>
          readFile(`/proc/${pid}/status`).then(
            () => pid,
            () => null,
          ),
        ),
      );
      return alive.every((p) => p === null) ? true : undefined;
    }, 2_000);
    expect(await childrenNamed('tesseract')).toEqual([]);
    expect(await childrenNamed('pdftoppm')).toEqual([]);
  });
});

describe('cancel while a page is being rendered', () => {
  it('kills the running pdftoppm at once, and no tesseract starts after it', async () => {
    // 1800 dpi makes pdftoppm busy long enough (a ~75 MP bitmap) to be caught running.
    const scanned = await makeScannedPdf(dir, 2);
    const controller = new AbortController();
    const running = runOcr(
      {
        path: scanned.path,
        mime: 'application/pdf',
        workDir: path.join(dir, 'cancel-render'),
        language: 'eng',
      },
      { signal: controller.signal, defaults: { dpi: 1800, pagesInFlight: 1, searchablePdf: false } },
    ).catch((error: unknown) => error);
    const pids = await until(async () => {
      const found = await childrenNamed('pdftoppm');
      return found.length > 0 ? found : undefined;
    }, 30_000);
    controller.abort();
    expect(await running).toMatchObject({ code: 'JOB_CANCELLED' });
    const alive = await Promise.all(
      pids.map((pid) =>
        readFile(`/proc/${pid}/status`, 'utf8').then(
          (status) => (/^State:\s+Z/m.test(status) ? null : pid),
          () => null,
        ),
      ),
    );
    expect(alive.filter((p) => p !== null)).toEqual([]);
    expect(await childrenNamed('pdftoppm')).toEqual([]);
    expect(await childrenNamed('tesseract')).toEqual([]);
  });
});
