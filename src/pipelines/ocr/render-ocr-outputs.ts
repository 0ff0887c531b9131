import { readFile } from 'node:fs/promises';
import type { PageResult } from './page-checkpoints.js';

/** The text output: every page under a `--- page N ---` marker, even a single image. */
export function renderOcrText(pages: readonly Pick<PageResult, 'page' | 'text'>[]): string {
  return `${pages.map((p) => `--- page ${p.page} ---\n${p.text.trim()}\n`).join('\n')}`;
}

/** The JSON output: per page its source, text, confidence, engine and hints. */
export function renderOcrJson(
  pages: readonly PageResult[],
  summary: { pageCount: number; pagesBySource: Record<string, number>; score: number | null },
): string {
  return `${JSON.stringify(
    {
      page_count: summary.pageCount,
      pages_by_source: summary.pagesBySource,
      score: summary.score,
      pages: pages.map((p) => ({
        page: p.page,
        source: p.source,
        text: p.text,
        confidence: p.confidence,
        engine: p.engine,
        ...(p.reason ? { reason: p.reason } : {}),
        ...(p.languages ? { languages: p.languages } : {}),
        ...(p.psm ? { psm: p.psm } : {}),
        hints: p.hints,
      })),
    },
    null,
    2,
  )}\n`;
}

/**
 * One hOCR document from tesseract's one-page hOCR files: the first file's head, then every
 * page's `ocr_page` with its ids renumbered to its page number.
 */
export async function mergeHocr(pages: ReadonlyArray<{ page: number; hocrPath: string }>): Promise<string> {
  let head = '';
  const bodies: string[] = [];
  for (const { page, hocrPath } of pages) {
    const html = await readFile(hocrPath, 'utf8');
    const bodyStart = html.indexOf('<body>');
    const bodyEnd = html.lastIndexOf('</body>');
    if (bodyStart < 0 || bodyEnd < 0) continue;
    if (!head) head = html.slice(0, bodyStart);
    bodies.push(
      html
        .slice(bodyStart + '<body>'.length, bodyEnd)
        .replace(
          /id='(page|block|par|line|word|photo|separator|caption|textfloat)_1(_\d+)?'/g,
          `id='$1_${page}$2'`,
        )
        .replace(/ppageno 0/g, `ppageno ${page - 1}`),
    );
  }
  return `${head}<body>${bodies.join('')}\n</body>\n</html>\n`;
}
