import { ChildProcessError, runChildProcess } from '../../process/run-child-process.js';

/**
 * Rewrites a damaged PDF with qpdf: it rebuilds a broken cross-reference table from the objects
 * themselves, and `--empty --pages` builds a new page tree from the pages it finds (poppler refuses
 * a tree whose /Count is wrong). True when qpdf wrote `outPath`; false when it could not recover
 * the file (no trailer, no catalog: nothing left to read).
 */
export async function repairPdf(
  pdfPath: string,
  outPath: string,
  options: { signal?: AbortSignal; timeoutMs?: number } = {},
): Promise<boolean> {
  try {
    // --warning-exit-0: a repaired file is the point here, and qpdf warns about each repair.
    await runChildProcess('qpdf', ['--warning-exit-0', '--empty', '--pages', pdfPath, '--', outPath], {
      timeoutMs: 120_000,
      ...options,
    });
    return true;
  } catch (error) {
    if (error instanceof ChildProcessError && error.kind === 'exit') return false;
    throw error;
  }
}
