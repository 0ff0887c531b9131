import { runChildProcess } from '../../process/run-child-process.js';

/** A page's size in PostScript points (1/72 inch), as `pdfinfo` reports it. */
export interface PdfPageSize {
  widthPt: number;
  heightPt: number;
}

/**
 * The size of one page, read with `pdfinfo -f n -l n` (no rendering: ~20 ms), or null when it
 * cannot be read (rendering then reports the damage).
 */
export async function readPdfPageSize(
  pdfPath: string,
  page: number,
  options: { signal?: AbortSignal } = {},
): Promise<PdfPageSize | null> {
  try {
    const { stdout } = await runChildProcess('pdfinfo', ['-f', String(page), '-l', String(page), pdfPath], {
      timeoutMs: 30_000,
      ...options,
    });
    const match = new RegExp(`^Page\\s+${page} size:\\s+([\\d.]+) x ([\\d.]+) pts`, 'm').exec(
      stdout.toString('utf8'),
    );
    if (!match) return null;
    return { widthPt: Number(match[1]), heightPt: Number(match[2]) };
  } catch {
    return null;
  }
}
