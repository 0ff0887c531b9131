/** Pixels of an A4 page at 300 dpi: the page size the configured page timeout is meant for. */
export const REFERENCE_PAGE_PIXELS = 2480 * 3508;

/**
 * A page's timeout, proportional to its pixels (tesseract's time grows with them): the configured
 * seconds for an A4 page at 300 dpi, more for a larger page, less for a smaller one but never under
 * a quarter (start-up costs do not shrink). Unknown size: the configured seconds.
 */
export function pageTimeoutMs(pixels: number | null, pageTimeoutSec: number): number {
  const scale = pixels === null ? 1 : Math.max(0.25, pixels / REFERENCE_PAGE_PIXELS);
  return Math.round(pageTimeoutSec * 1000 * scale);
}
