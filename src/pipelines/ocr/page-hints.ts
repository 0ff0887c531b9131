import type { RecognizedPage } from '../../engines/ocr/ocr-engine.js';
import { SCRIPT_TO_LANGUAGES } from '../../engines/ocr/tesseract-engine.js';
import type { ImageQuality } from '../../media/image/measure-image-quality.js';
import type { PageResult } from './page-checkpoints.js';

/** Below this (0–255) ink and paper are too close: a faded or grey scan. */
const LOW_CONTRAST = 60;
/** Below this edge strength (0–1) text edges are soft: a blurred or out-of-focus scan. */
const BLURRY = 0.45;
/** Fewer words than this and a page's confidence says little. */
const LITTLE_TEXT_WORDS = 8;
/** OSD must be at least this sure of a script to suspect the wrong language. */
const SCRIPT_CONFIDENCE = 2;

/** Looks at a weak page's image: contrast and sharpness, and the script tesseract's OSD sees. */
export interface PageHintProbe {
  measure(imagePath: string, signal: AbortSignal): Promise<ImageQuality>;
  detectScript(
    imagePath: string,
    signal: AbortSignal,
  ): Promise<{ script: string; confidence: number } | null>;
  /**
   * Reads the page with other installed languages and returns the script of one that reads it
   * clearly better than `languages` did (`confidence` is what they gave), or null.
   */
  betterScript(
    imagePath: string,
    languages: string,
    confidence: number,
    signal: AbortSignal,
  ): Promise<string | null>;
}

/**
 * Hints for one OCRed page, as stable codes: `little_text`, and for a low-confidence page what
 * the image suggests (`blurry`, `low_contrast`, `wrong_language_suspected:<Script>`), plus the
 * engine's own warnings. Costs nothing on a good page.
 */
export async function hintsForPage(
  page: RecognizedPage,
  context: {
    imagePath: string;
    languages: string;
    lowConfidence: number;
    signal: AbortSignal;
    probe?: PageHintProbe;
  },
): Promise<string[]> {
  const hints: string[] = [...(page.warnings ?? [])];
  if (page.text.trim() === '') hints.push('no_text');
  else if (page.wordCount < LITTLE_TEXT_WORDS) hints.push('little_text');
  const weak = page.meanConfidence !== null && page.meanConfidence < context.lowConfidence;
  if (!weak || !context.probe) return hints;
  const quality = await context.probe.measure(context.imagePath, context.signal);
  if (quality.contrast < LOW_CONTRAST) hints.push('low_contrast');
  else if (quality.sharpness < BLURRY) hints.push('blurry');
  const languages = context.languages.split('+');
  const seen = await context.probe.detectScript(context.imagePath, context.signal);
  if (seen && seen.confidence >= SCRIPT_CONFIDENCE) {
    const covering = SCRIPT_TO_LANGUAGES[seen.script];
    if (covering && !covering.some((l) => languages.includes(l))) {
      hints.push(`wrong_language_suspected:${seen.script}`);
    }
    return hints;
  }
  // OSD declines pages with little text: then try the other installed languages on the page.
  const script = await context.probe.betterScript(
    context.imagePath,
    context.languages,
    page.meanConfidence ?? 0,
    context.signal,
  );
  if (script) hints.push(`wrong_language_suspected:${script}`);
  return hints;
}

const HINT_SENTENCES: ReadonlyArray<[RegExp, (pages: string) => string]> = [
  [/^blurry$/, (p) => `${p} look blurry: rescan them sharper or at a higher resolution.`],
  [/^low_contrast$/, (p) => `${p} have low contrast: rescan them darker or in greyscale.`],
  [/^little_text$/, (p) => `${p} contain little text; their confidence says little.`],
  [/^no_text$/, (p) => `${p} contain no recognisable text.`],
  [/^render_failed$/, (p) => `${p} could not be rendered (damaged PDF) and have no text.`],
  [/^truncated$/, (p) => `${p} got a truncated answer from the engine; their text may be incomplete.`],
  [/^empty_answer$/, (p) => `${p} got an empty answer from the engine twice.`],
  [/^text_layer_/, (p) => `${p} kept a doubtful text layer because the job asked for text only.`],
];

function pageList(pages: readonly number[]): string {
  const shown = pages.slice(0, 20).join(', ');
  const more = pages.length > 20 ? ` and ${pages.length - 20} more` : '';
  return `${pages.length === 1 ? 'Page' : 'Pages'} ${shown}${more}`;
}

/** The job's hints for people: one sentence per kind of problem, naming the pages. */
export function summariseHints(pages: readonly PageResult[]): string[] {
  const byHint = new Map<string, number[]>();
  for (const page of pages) {
    for (const hint of page.hints) byHint.set(hint, [...(byHint.get(hint) ?? []), page.page]);
  }
  const sentences: string[] = [];
  for (const [hint, pageNumbers] of byHint) {
    const wrongScript = /^wrong_language_suspected:(.+)$/.exec(hint);
    if (wrongScript) {
      const languages = SCRIPT_TO_LANGUAGES[wrongScript[1] ?? '']?.join(' or ') ?? 'its language';
      sentences.push(
        `${pageList(pageNumbers)} look like ${wrongScript[1]} script, which the job's languages do not cover: try ${languages}.`,
      );
      continue;
    }
    const sentence = HINT_SENTENCES.find(([pattern]) => pattern.test(hint));
    if (sentence) sentences.push(sentence[1](pageList(pageNumbers)));
  }
  return [...new Set(sentences)];
}
