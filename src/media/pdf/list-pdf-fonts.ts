import { runChildProcess } from '../../process/run-child-process.js';

/**
 * Names of the fonts used on pages `first`..`last` (poppler's `pdffonts`), subset prefixes
 * removed. Empty when the tool cannot read the fonts: fonts only sharpen the text-layer check.
 */
export async function listPdfFonts(
  pdfPath: string,
  first: number,
  last: number,
  options: { signal?: AbortSignal } = {},
): Promise<string[]> {
  try {
    const { stdout } = await runChildProcess('pdffonts', ['-f', String(first), '-l', String(last), pdfPath], {
      timeoutMs: 60_000,
      ...(options.signal ? { signal: options.signal } : {}),
    });
    return stdout
      .toString('utf8')
      .split('\n')
      .slice(2)
      .map((line) => line.split(/\s+/)[0] ?? '')
      .filter(Boolean)
      .map((name) => name.replace(/^[A-Z]{6}\+/, ''));
  } catch (error) {
    if (options.signal?.aborted) throw error;
    return [];
  }
}
