import { AppError } from '../../contract/index.js';
import { ChildProcessError, runChildProcess } from '../../process/run-child-process.js';

/**
 * The text layer of pages `first`..`last` with poppler's `pdftotext` (reading order, UTF-8), one
 * string per page. One child per range keeps memory flat and costs ~ms per page.
 */
export async function extractPdfText(
  pdfPath: string,
  first: number,
  last: number,
  options: { signal?: AbortSignal; timeoutMs?: number } = {},
): Promise<string[]> {
  try {
    const { stdout } = await runChildProcess(
      'pdftotext',
      ['-f', String(first), '-l', String(last), '-enc', 'UTF-8', pdfPath, '-'],
      { timeoutMs: options.timeoutMs ?? 120_000, ...(options.signal ? { signal: options.signal } : {}) },
    );
    // pdftotext ends every page with a form feed.
    const pages = stdout.toString('utf8').split('\f');
    const count = last - first + 1;
    return Array.from({ length: count }, (_, i) => pages[i] ?? '');
  } catch (error) {
    if (error instanceof ChildProcessError && error.kind === 'exit') {
      throw new AppError('INPUT_UNREADABLE', 'The text of the PDF could not be read.', { cause: error });
    }
    throw error;
  }
}
