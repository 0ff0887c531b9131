import type { SupportedInput } from '../api/contract.js';
import { countPdfPages } from '../format/count-pdf-pages.js';

/** What the precheck is told about a file's size in work: pages of a document, length of a recording. */
export interface FileMeasure {
  page_count?: number;
  duration_sec?: number;
}

/** A PDF up to this size is read whole; a larger one only its head and tail (where the page tree is). */
export const PDF_READ_WHOLE_BYTES = 16 * 1024 * 1024;
export const PDF_READ_PART_BYTES = 4 * 1024 * 1024;
/** How long a recording's metadata may take to load before its length is left unknown. */
export const MEDIA_METADATA_TIMEOUT_MS = 5_000;

async function bytesOf(blob: Blob): Promise<Uint8Array> {
  return new Uint8Array(await blob.arrayBuffer());
}

/** The PDF's page count from a bounded read of its bytes, or null. */
export async function measurePdfPages(file: Blob): Promise<number | null> {
  try {
    if (file.size <= PDF_READ_WHOLE_BYTES) return await countPdfPages(await bytesOf(file), true);
    const head = await bytesOf(file.slice(0, PDF_READ_PART_BYTES));
    const tail = await bytesOf(file.slice(file.size - PDF_READ_PART_BYTES));
    const both = new Uint8Array(head.length + tail.length);
    both.set(head);
    both.set(tail, head.length);
    return await countPdfPages(both, false);
  } catch {
    return null;
  }
}

/**
 * A recording's length from an `<audio>`/`<video>` element's metadata (`loadedmetadata`), or null
 * when the browser cannot read it or takes longer than `timeoutMs`. The object URL is revoked and
 * the element let go either way.
 */
export function readMediaDuration(
  file: Blob,
  kind: 'audio' | 'video',
  timeoutMs = MEDIA_METADATA_TIMEOUT_MS,
): Promise<number | null> {
  return new Promise((resolve) => {
    const element = document.createElement(kind);
    const url = URL.createObjectURL(file);
    let settled = false;
    const finish = (duration: number | null) => {
      if (settled) return;
      settled = true;
      window.clearTimeout(timer);
      element.removeEventListener('loadedmetadata', onMetadata);
      element.removeEventListener('error', onError);
      URL.revokeObjectURL(url);
      element.removeAttribute('src');
      resolve(duration);
    };
    const onMetadata = () =>
      finish(Number.isFinite(element.duration) && element.duration > 0 ? element.duration : null);
    const onError = () => finish(null);
    const timer = window.setTimeout(() => finish(null), timeoutMs);
    element.preload = 'metadata';
    element.muted = true;
    element.addEventListener('loadedmetadata', onMetadata);
    element.addEventListener('error', onError);
    element.src = url;
  });
}

/**
 * Pages or duration of a chosen file, measured locally before upload: a PDF's page count, 1 for a
 * single image, a recording's length. Multipage TIFF and what the browser cannot read stay unknown.
 */
export async function measureFile(file: Blob, input: SupportedInput | undefined): Promise<FileMeasure> {
  if (!input) return {};
  if (input.mime === 'application/pdf') {
    const pages = await measurePdfPages(file);
    return pages === null ? {} : { page_count: pages };
  }
  if (input.jobType === 'OCR') return input.mime === 'image/tiff' ? {} : { page_count: 1 };
  const duration = await readMediaDuration(file, input.mime.startsWith('video/') ? 'video' : 'audio');
  return duration === null ? {} : { duration_sec: duration };
}
