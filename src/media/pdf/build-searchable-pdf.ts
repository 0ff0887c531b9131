import path from 'node:path';
import { runChildProcess } from '../../process/run-child-process.js';

export interface SearchablePdfPage {
  /** 1-based page number in the document. */
  page: number;
  /** A one-page PDF from the OCR engine. */
  pdfPath: string;
}

/**
 * A searchable PDF from the original: each OCRed page gets the engine's invisible text layer laid
 * over it (qpdf `--overlay`), so the original page content, born-digital pages and the document
 * structure stay untouched. Returns the output path.
 */
export async function overlayTextLayers(
  originalPdf: string,
  layers: readonly SearchablePdfPage[],
  options: { workDir: string; signal?: AbortSignal },
): Promise<string> {
  const sorted = [...layers].sort((a, b) => a.page - b.page);
  const overlay = path.join(options.workDir, 'text-layers.pdf');
  await joinPdfs(
    sorted.map((l) => l.pdfPath),
    overlay,
    options,
  );
  const out = path.join(options.workDir, 'searchable.pdf');
  await runChildProcess(
    'qpdf',
    [
      originalPdf,
      '--overlay',
      overlay,
      `--to=${sorted.map((l) => l.page).join(',')}`,
      `--from=1-${sorted.length}`,
      '--',
      out,
    ],
    { timeoutMs: 600_000, ...(options.signal ? { signal: options.signal } : {}) },
  );
  return out;
}

/** Joins one-page PDFs (the engine's image + text pages of an image input) into one document. */
export async function joinPdfs(
  pdfPaths: readonly string[],
  out: string,
  options: { signal?: AbortSignal } = {},
): Promise<string> {
  const first = pdfPaths[0];
  if (!first) throw new Error('joinPdfs needs at least one PDF');
  await runChildProcess('qpdf', ['--empty', '--pages', ...pdfPaths, '--', out], {
    timeoutMs: 600_000,
    ...(options.signal ? { signal: options.signal } : {}),
  });
  return out;
}
