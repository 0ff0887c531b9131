import { isAppError } from '../../contract/index.js';
import { type PdfInfo, readPdfInfo } from './read-pdf-info.js';
import { repairPdf } from './repair-pdf.js';

export interface OpenedPdf {
  /** The file to read from now on: the original, or its repaired copy. */
  path: string;
  info: PdfInfo;
  repaired: boolean;
}

/**
 * Opens a PDF with poppler; one poppler cannot open is repaired by qpdf into `repairedPath` and
 * opened from there. A file qpdf cannot repair either keeps poppler's INPUT_UNREADABLE; a PDF
 * needing a password (PDF_ENCRYPTED) is never "repaired".
 */
export async function openPdf(
  pdfPath: string,
  repairedPath: string,
  options: { signal?: AbortSignal } = {},
): Promise<OpenedPdf> {
  try {
    return { path: pdfPath, info: await readPdfInfo(pdfPath, options), repaired: false };
  } catch (error) {
    if (!isAppError(error) || error.code !== 'INPUT_UNREADABLE') throw error;
    if (!(await repairPdf(pdfPath, repairedPath, options))) throw error;
    return { path: repairedPath, info: await readPdfInfo(repairedPath, options), repaired: true };
  }
}
