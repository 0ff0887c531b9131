import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { FastifyBaseLogger } from 'fastify';
import { imageSize } from 'image-size';
import { AppError, type SupportedInput } from '../contract/index.js';
import { probeMedia } from '../media/ffmpeg/probe-media.js';
import { mediaTooLong } from '../media/media-too-long.js';
import { readPdfInfo } from '../media/pdf/read-pdf-info.js';
import type { ObjectStorage } from '../storage/object-storage.js';

/** What an upload may be before any worker touches it (the OCR limits; the worker checks again). */
export interface InputComplexityLimits {
  /** OCR_MAX_IMAGE_PIXELS: most width × height of an uploaded image. */
  maxImagePixels: number;
  /** OCR_MAX_PAGES: most pages of a PDF. */
  maxPdfPages: number;
  /** How long `pdfinfo` may take on an upload; slower, and the worker decides. */
  pdfInfoTimeoutMs?: number;
  /** TRANSCRIPTION_MAX_DURATION_SEC: longest recording, measured by ffprobe; absent: left to the worker. */
  maxMediaDurationSec?: number;
  /** How long `ffprobe` may take on an upload; slower, and the worker decides. */
  mediaProbeTimeoutMs?: number;
}

export const INTAKE_PDFINFO_TIMEOUT_MS = 15_000;
export const INTAKE_PROBE_TIMEOUT_MS = 15_000;

/**
 * Refuses an image whose header, among the first bytes already sniffed, claims more pixels than
 * allowed (a decompression bomb: 50,000 × 50,000 is 2.5 billion) with `INPUT_TOO_COMPLEX`, before
 * the rest is stored. PNG, BMP and WebP carry the size at the start; a TIFF's first IFD or a JPEG's
 * frame header may lie beyond the head, and then the worker's check (every TIFF page) decides.
 */
export function checkImageHead(head: Buffer, input: SupportedInput, limits: InputComplexityLimits): void {
  if (!input.mime.startsWith('image/')) return;
  let size: { width?: number; height?: number };
  try {
    size = imageSize(head);
  } catch {
    return;
  }
  const { width = 0, height = 0 } = size;
  const pixels = width * height;
  if (pixels > limits.maxImagePixels) {
    throw new AppError(
      'INPUT_TOO_COMPLEX',
      `The image has ${pixels} pixels (${width} × ${height}); at most ${limits.maxImagePixels} are accepted.`,
    );
  }
}

/**
 * Measures a stored object on a scratch copy (the tools need a path), removed afterwards. When the
 * tool fails (damaged file, timeout, tool missing) the upload check is skipped: `skipped` is told
 * why and null returned, and the worker, which checks again, decides.
 */
async function measureScratchCopy<T>(
  storage: ObjectStorage,
  key: string,
  name: string,
  measure: (filePath: string) => Promise<T>,
  skipped: (reason: string) => void,
): Promise<T | null> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'dt-intake-'));
  try {
    const filePath = path.join(dir, name);
    await storage.download(key, filePath);
    try {
      return await measure(filePath);
    } catch (error) {
      skipped(error instanceof AppError ? error.code : ((error as { kind?: string }).kind ?? 'error'));
      return null;
    }
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/**
 * Counts the pages of a stored PDF upload with `pdfinfo` (on a scratch copy, bounded by a timeout)
 * and refuses more than allowed with `INPUT_TOO_COMPLEX`; the caller then deletes what it stored.
 * A PDF `pdfinfo` cannot read, or cannot read in time, is left to the worker, which reports the
 * damage with its own code; so is one on a machine without poppler. Returns the page count, or
 * null when it was left to the worker.
 */
export async function checkStoredPdfPages(
  storage: ObjectStorage,
  key: string,
  limits: InputComplexityLimits,
  log?: FastifyBaseLogger,
): Promise<number | null> {
  const pageCount = await measureScratchCopy(
    storage,
    key,
    'input.pdf',
    async (filePath) =>
      (await readPdfInfo(filePath, { timeoutMs: limits.pdfInfoTimeoutMs ?? INTAKE_PDFINFO_TIMEOUT_MS }))
        .pageCount,
    (reason) =>
      log?.warn(
        { event: 'upload.pdf_check_skipped', reason },
        'PDF page count not read at upload; the worker checks it',
      ),
  );
  if (pageCount !== null && pageCount > limits.maxPdfPages) {
    throw new AppError(
      'INPUT_TOO_COMPLEX',
      `The PDF has ${pageCount} pages; at most ${limits.maxPdfPages} are accepted.`,
    );
  }
  return pageCount;
}

/**
 * Measures a stored recording with `ffprobe` (on a scratch copy, bounded by a timeout; never a
 * duration the client sent) and refuses one longer than `maxMediaDurationSec` with
 * `MEDIA_TOO_LONG`; the caller then deletes what it stored. A recording ffprobe cannot read, or
 * whose container does not tell its length, is left to the worker, whose decoded length is the
 * authority. Returns the duration in seconds, or null when it was left to the worker.
 */
export async function checkStoredMediaDuration(
  storage: ObjectStorage,
  key: string,
  limits: InputComplexityLimits,
  log?: FastifyBaseLogger,
): Promise<number | null> {
  const maxDurationSec = limits.maxMediaDurationSec;
  if (maxDurationSec === undefined) return null;
  const durationSec = await measureScratchCopy(
    storage,
    key,
    'input.media',
    async (filePath) =>
      (await probeMedia(filePath, { timeoutMs: limits.mediaProbeTimeoutMs ?? INTAKE_PROBE_TIMEOUT_MS }))
        .durationSec,
    (reason) =>
      log?.warn(
        { event: 'upload.media_check_skipped', reason },
        'recording length not read at upload; the worker checks it',
      ),
  );
  if (durationSec !== null && durationSec > maxDurationSec) throw mediaTooLong(durationSec, maxDurationSec);
  return durationSec;
}
