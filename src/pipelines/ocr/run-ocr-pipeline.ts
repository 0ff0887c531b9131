import { rm } from 'node:fs/promises';
import { performance } from 'node:perf_hooks';
import { AppError, isAppError } from '../../contract/index.js';
import type { OcrEngine, RecognizedPage } from '../../engines/ocr/ocr-engine.js';
import { readPdfInfo } from '../../media/pdf/read-pdf-info.js';
import { renderPdfPage } from '../../media/pdf/render-pdf-page.js';
import type { Pipeline, PipelineContext, PipelineInput, PipelineResult } from '../pipeline.js';
import { stopOnCancel } from '../stop-on-cancel.js';

export interface OcrPipelineDeps {
  engine: OcrEngine & { assertLanguages(languages: string): Promise<void> };
  dpi: number;
  pageTimeoutSec: number;
}

/** Pages below this mean confidence are listed in `quality.low_confidence_pages`. */
const LOW_CONFIDENCE = 0.6;

export interface OcrPage {
  page: number;
  text: string;
  confidence: number | null;
}

/** The text output: every page under a `--- page N ---` marker, even a single image. */
export function renderOcrText(pages: readonly OcrPage[]): string {
  return `${pages.map((p) => `--- page ${p.page} ---\n${p.text.trim()}\n`).join('\n')}`;
}

/** Document or image → one page at a time → tesseract → text with page markers and JSON per page. */
export function createOcrPipeline(deps: OcrPipelineDeps): Pipeline {
  return stopOnCancel((input, context) => recognizeDocument(deps, input, context));
}

async function recognizeDocument(
  deps: OcrPipelineDeps,
  input: PipelineInput,
  context: PipelineContext,
): Promise<PipelineResult> {
  const { signal, logger } = context;
  await deps.engine.assertLanguages(input.language);
  const isPdf = input.inputMime === 'application/pdf';
  const pageCount = isPdf ? (await readPdfInfo(input.inputPath, { signal })).pageCount : 1;
  await context.reportProgress({
    stage: `page 1 of ${pageCount}`,
    progress: 1,
    facts: { page_count: pageCount },
  });

  const pages: OcrPage[] = [];
  for (let page = 1; page <= pageCount; page++) {
    if (signal.aborted) throw new AppError('JOB_CANCELLED');
    const started = performance.now();
    const timeoutMs = deps.pageTimeoutSec * 1000;
    let recognized: RecognizedPage;
    if (isPdf) {
      const image = await renderPdfPage(input.inputPath, page, {
        dpi: deps.dpi,
        outDir: input.workDir,
        signal,
      });
      try {
        recognized = await deps.engine.recognize(image, { languages: input.language, signal, timeoutMs });
      } finally {
        await rm(image, { force: true });
      }
    } else {
      recognized = await recognizeImage(deps.engine, input, signal, timeoutMs);
    }
    pages.push({ page, text: recognized.text, confidence: recognized.meanConfidence });
    logger.info(
      {
        event: 'ocr.page.done',
        stage: `page ${page} of ${pageCount}`,
        page,
        chars: recognized.text.length,
        confidence: recognized.meanConfidence,
        languages: recognized.languagesUsed,
        duration_ms: Math.round(performance.now() - started),
      },
      'page recognised',
    );
    await context.reportProgress({
      stage: page < pageCount ? `page ${page + 1} of ${pageCount}` : 'saving results',
      progress: Math.min(99, Math.floor((page / pageCount) * 98) + 1),
    });
  }

  const confidences = pages.map((p) => p.confidence).filter((c): c is number => c !== null);
  const score = confidences.length > 0 ? confidences.reduce((a, b) => a + b, 0) / confidences.length : null;
  return {
    outputs: {
      txt: renderOcrText(pages),
      json: `${JSON.stringify({ page_count: pageCount, pages }, null, 2)}\n`,
    },
    engine: `${deps.engine.name} ${await deps.engine.version()}`,
    quality: {
      score: score === null ? null : Math.round(score * 1000) / 1000,
      low_confidence_pages: pages
        .filter((p) => p.confidence !== null && p.confidence < LOW_CONFIDENCE)
        .map((p) => p.page),
      hints: pages.some((p) => p.text.trim() === '') ? ['Some pages contain no recognisable text.'] : [],
    },
    page_count: pageCount,
  };
}

async function recognizeImage(
  engine: OcrEngine,
  input: PipelineInput,
  signal: AbortSignal,
  timeoutMs: number,
): Promise<RecognizedPage> {
  try {
    return await engine.recognize(input.inputPath, { languages: input.language, signal, timeoutMs });
  } catch (error) {
    // The file passed content sniffing, so an engine that cannot open it means a damaged image.
    if (isAppError(error) && error.code === 'OCR_ENGINE_FAILED') {
      throw new AppError('INPUT_UNREADABLE', 'The image is damaged and could not be read.', { cause: error });
    }
    throw error;
  }
}
