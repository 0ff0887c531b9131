import path from 'node:path';
import { runChildProcess } from '../../process/run-child-process.js';

const TIFF_EXTENSIONS = new Set(['.tif', '.tiff']);

/**
 * A one-page PDF showing an image at its own resolution (`dpi` when the file has none): a TIFF page
 * goes straight to `tiff2pdf` (G4 and other compressions passed through), any other image is first
 * written as a lossless Deflate TIFF by ffmpeg. Returns the PDF's path.
 */
export async function imageToPdf(
  imagePath: string,
  outPath: string,
  options: { dpi: number; signal?: AbortSignal },
): Promise<string> {
  const run = { timeoutMs: 120_000, ...(options.signal ? { signal: options.signal } : {}) };
  let tiff = imagePath;
  if (!TIFF_EXTENSIONS.has(path.extname(imagePath).toLowerCase())) {
    tiff = `${outPath}.tif`;
    await runChildProcess(
      'ffmpeg',
      [
        '-nostdin',
        '-v',
        'error',
        '-y',
        '-i',
        imagePath,
        '-frames:v',
        '1',
        '-compression_algo',
        'deflate',
        tiff,
      ],
      run,
    );
  }
  await runChildProcess(
    'tiff2pdf',
    ['-r', 'd', '-u', 'i', '-x', String(options.dpi), '-y', String(options.dpi), '-o', outPath, tiff],
    run,
  );
  return outPath;
}
