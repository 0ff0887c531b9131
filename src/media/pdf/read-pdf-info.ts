import { AppError } from '../../contract/index.js';
import { ChildProcessError, runChildProcess } from '../../process/run-child-process.js';

export interface PdfInfo {
  pageCount: number;
  encrypted: boolean;
}

/** Page count and encryption of a PDF, read with poppler's `pdfinfo` (fast: no page is rendered). */
export async function readPdfInfo(
  pdfPath: string,
  options: { signal?: AbortSignal; timeoutMs?: number } = {},
): Promise<PdfInfo> {
  let stdout: string;
  try {
    const result = await runChildProcess('pdfinfo', [pdfPath], { timeoutMs: 30_000, ...options });
    stdout = result.stdout.toString('utf8');
  } catch (error) {
    if (error instanceof ChildProcessError && error.kind === 'exit') {
      // pdfinfo has no distinct exit code for a user password; its message is the only signal.
      if (/incorrect password/i.test(error.stderrTail))
        throw new AppError('PDF_ENCRYPTED', undefined, { cause: error });
      throw new AppError('INPUT_UNREADABLE', 'The PDF is damaged and could not be opened.', { cause: error });
    }
    throw error;
  }
  const pages = /^Pages:\s+(\d+)/m.exec(stdout);
  if (!pages) throw new AppError('INPUT_UNREADABLE', 'The PDF is damaged: its page count is unreadable.');
  const pageCount = Number(pages[1]);
  if (pageCount === 0) throw new AppError('PDF_NO_PAGES');
  return { pageCount, encrypted: /^Encrypted:\s+yes/m.test(stdout) };
}
