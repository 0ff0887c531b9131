import path from 'node:path';
import { AppError } from '../../contract/index.js';
import { ChildProcessError, runChildProcess } from '../../process/run-child-process.js';

/**
 * Renders one page to a greyscale PNG with poppler's `pdftoppm`. One page at a time keeps memory
 * flat whatever the document's length. Returns the PNG's path.
 */
export async function renderPdfPage(
  pdfPath: string,
  page: number,
  options: { dpi: number; outDir: string; signal?: AbortSignal; timeoutMs?: number },
): Promise<string> {
  const base = path.join(options.outDir, `page-${page}`);
  const args = [
    '-f',
    String(page),
    '-l',
    String(page),
    '-r',
    String(options.dpi),
    '-gray',
    '-png',
    '-singlefile',
  ];
  try {
    await runChildProcess('pdftoppm', [...args, pdfPath, base], {
      timeoutMs: options.timeoutMs ?? 120_000,
      ...(options.signal ? { signal: options.signal } : {}),
    });
  } catch (error) {
    if (error instanceof ChildProcessError && error.kind === 'exit') {
      throw new AppError('INPUT_UNREADABLE', `Page ${page} of the PDF could not be rendered.`, {
        cause: error,
      });
    }
    throw error;
  }
  return `${base}.png`;
}
