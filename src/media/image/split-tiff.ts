import { mkdir, readdir } from 'node:fs/promises';
import path from 'node:path';
import { AppError } from '../../contract/index.js';
import { ChildProcessError, runChildProcess } from '../../process/run-child-process.js';

/**
 * Splits a (multi-page) TIFF into one file per page with libtiff's `tiffsplit`, keeping each
 * page's compression (G4 stays G4). Returns the page files in page order.
 */
export async function splitTiff(
  tiffPath: string,
  outDir: string,
  options: { signal?: AbortSignal } = {},
): Promise<string[]> {
  await mkdir(outDir, { recursive: true });
  try {
    await runChildProcess('tiffsplit', [tiffPath, `${outDir}/p`], {
      timeoutMs: 300_000,
      ...(options.signal ? { signal: options.signal } : {}),
    });
  } catch (error) {
    if (error instanceof ChildProcessError && error.kind === 'exit') {
      throw new AppError('INPUT_UNREADABLE', 'The TIFF image is damaged and could not be read.', {
        cause: error,
      });
    }
    throw error;
  }
  // tiffsplit names pages paaa.tif, paab.tif, …: lexical order is page order.
  const files = (await readdir(outDir)).filter((f) => f.startsWith('p') && f.endsWith('.tif')).sort();
  if (files.length === 0) throw new AppError('INPUT_UNREADABLE', 'The TIFF image has no pages.');
  return files.map((f) => path.join(outDir, f));
}
