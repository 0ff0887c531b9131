import { createReadStream } from 'node:fs';
import { mkdir, rename, rm } from 'node:fs/promises';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import type { Readable } from 'node:stream';
import {
  AppError,
  isAppError,
  type OcrEngineName,
  type OcrPolicy,
  type OcrPsmMode,
  type PagesBySource,
} from '../../contract/index.js';
import type { ExtraWorkBudget } from '../../engines/extra-work-budget.js';
import type { OcrEngine, RecognizedPage, RecognizeOptions } from '../../engines/ocr/ocr-engine.js';
import { imageToPdf } from '../../media/image/image-to-pdf.js';
import { readImagePixels } from '../../media/image/read-image-pixels.js';
import { readTiffPageSizes } from '../../media/image/read-tiff-page-sizes.js';
import { splitTiff } from '../../media/image/split-tiff.js';
import { joinPdfs, overlayTextLayers } from '../../media/pdf/build-searchable-pdf.js';
import { extractPdfText } from '../../media/pdf/extract-pdf-text.js';
import { listPdfFonts } from '../../media/pdf/list-pdf-fonts.js';
import { openPdf } from '../../media/pdf/open-pdf.js';
import { readPdfPageSize } from '../../media/pdf/read-pdf-page-size.js';
import { renderPdfPage } from '../../media/pdf/render-pdf-page.js';
import { writeTextLayerPdf } from '../../media/pdf/write-text-layer-pdf.js';
import type { ObjectStorage } from '../../storage/object-storage.js';
import type { Pipeline, PipelineContext, PipelineInput, PipelineResult } from '../pipeline.js';
import { stopOnCancel } from '../stop-on-cancel.js';
import { assessTextLayer, isLegacyDevanagariFont, type TextLayerVerdict } from './assess-text-layer.js';
import { PageCheckpoints, type PageResult } from './page-checkpoints.js';
import { hintsForPage, type PageHintProbe, summariseHints } from './page-hints.js';
import { pageTimeoutMs } from './page-timeout.js';
import { mergeHocr, renderOcrJson, renderOcrText } from './render-ocr-outputs.js';
import { runPagePool } from './run-page-pool.js';

export { renderOcrText } from './render-ocr-outputs.js';

/** Pages below this mean confidence are listed in `quality.low_confidence_pages`. */
export const LOW_CONFIDENCE = 0.6;
/** Engine warnings that make a page without confidences count as low confidence. */
const DOUBTFUL_PAGE_HINTS = new Set(['truncated', 'empty_answer', 'no_text']);

function isLowConfidence(page: PageResult): boolean {
  if (page.source !== 'ocr') return false;
  if (page.confidence !== null) return page.confidence < LOW_CONFIDENCE;
  return page.hints.some((h) => DOUBTFUL_PAGE_HINTS.has(h));
}

/** Pages of text layer read per pdftotext run. */
const TEXT_BATCH_PAGES = 50;

export interface OcrDefaults {
  policy: OcrPolicy;
  engine: OcrEngineName;
  /** Engine per content subtype, overriding `engine` (a job's own `engine` option wins over both). */
  engineBySubtype: Partial<Record<string, OcrEngineName>>;
  dpi: number;
  psm: OcrPsmMode;
  /** Pages read at once (one engine process each); for a cloud engine, requests in flight. */
  pagesInFlight: number;
  /** Pages per request to an engine that reads several at once (Gemini); 1: one page per request. */
  cloudBatchPages: number;
  /** Timeout of an A4 page at 300 dpi; larger or smaller pages get proportionally more or less. */
  pageTimeoutSec: number;
  /** Produce a searchable PDF when the engine can (tesseract). */
  searchablePdf: boolean;
  /** Produce an hOCR output when the engine can (tesseract). */
  hocr: boolean;
  /** Most pages a document may have; more: `INPUT_TOO_COMPLEX` before any page is read. */
  maxPages: number;
  /** Most pixels an uploaded image (or a page rendered from a PDF) may have. */
  maxImagePixels: number;
}

export interface OcrPipelineDeps {
  engines: Partial<Record<OcrEngineName, OcrEngine>>;
  defaults: OcrDefaults;
  /** Where finished pages are checkpointed so a retried attempt skips them; none: no checkpoints. */
  checkpointStorage?: ObjectStorage;
  /** Looks at a weak page for hints (blur, contrast, script); none: hints from the text only. */
  hintProbe?: PageHintProbe;
}

export const DEFAULT_OCR_OPTIONS: OcrDefaults = {
  policy: 'auto',
  engine: 'tesseract',
  engineBySubtype: {},
  dpi: 300,
  psm: 'auto',
  pagesInFlight: 1,
  cloudBatchPages: 1,
  pageTimeoutSec: 180,
  searchablePdf: true,
  hocr: false,
  maxPages: 5000,
  maxImagePixels: 200_000_000,
};

/**
 * Document or image → text layer first, the rest OCRed in parallel one page image at a time →
 * text with page markers, JSON per page, a searchable PDF and (optionally) hOCR.
 */
export function createOcrPipeline(deps: OcrPipelineDeps): Pipeline {
  return stopOnCancel((input, context) => recognizeDocument(deps, input, context));
}

interface PageImage {
  path: string;
  dpi?: number;
  /** Remove after reading (rendered pages); an uploaded image stays. */
  temporary: boolean;
}

interface PageSource {
  kind: 'pdf' | 'image';
  pageCount: number;
  image(page: number, signal: AbortSignal): Promise<PageImage>;
}

interface ResolvedJobOptions {
  policy: OcrPolicy;
  engineName: OcrEngineName;
  dpi: number;
  psm: OcrPsmMode;
  batchPages: number;
}

function resolveOptions(deps: OcrPipelineDeps, input: PipelineInput): ResolvedJobOptions {
  const d = deps.defaults;
  return {
    policy: input.ocr?.policy ?? d.policy,
    engineName: input.ocr?.engine ?? d.engineBySubtype[input.contentSubtype] ?? d.engine,
    dpi: input.ocr?.dpi ?? d.dpi,
    psm: input.ocr?.psm ?? d.psm,
    batchPages: input.ocr?.batch_pages ?? d.cloudBatchPages,
  };
}

function tooComplex(detail: string): AppError {
  return new AppError('INPUT_TOO_COMPLEX', detail);
}

/** Refuses, from headers only, inputs whose pages or pixels would swamp the machine (bombs). */
async function checkImageSize(filePath: string, limits: OcrDefaults): Promise<void> {
  const pixels = await readImagePixels(filePath);
  if (pixels !== null && pixels > limits.maxImagePixels) {
    throw tooComplex(`The image has ${pixels} pixels; at most ${limits.maxImagePixels} are accepted.`);
  }
}

/** Every page of a TIFF, not only the first the image header shows, before tiffsplit expands any. */
async function checkTiffPages(filePath: string, limits: OcrDefaults): Promise<void> {
  const walk = await readTiffPageSizes(filePath);
  if (!walk) return;
  if (walk.pages.length > limits.maxPages || (walk.truncated && walk.pages.length >= limits.maxPages)) {
    throw tooComplex(
      `The TIFF has ${walk.pages.length} pages or more; at most ${limits.maxPages} are accepted.`,
    );
  }
  for (const { page, width, height } of walk.pages) {
    if (width * height > limits.maxImagePixels) {
      throw tooComplex(
        `Page ${page} of the TIFF has ${width * height} pixels (${width} × ${height}); at most ${limits.maxImagePixels} are accepted.`,
      );
    }
  }
}

/** The job's pages, and its input with the path to read them from (a damaged PDF's repaired copy). */
async function openSource(
  received: PipelineInput,
  dpi: number,
  context: PipelineContext,
  limits: OcrDefaults,
): Promise<{ source: PageSource; input: PipelineInput }> {
  const { signal } = context;
  if (received.inputMime === 'application/pdf') {
    await mkdir(received.workDir, { recursive: true });
    const pdf = await openPdf(received.inputPath, path.join(received.workDir, 'repaired.pdf'), { signal });
    if (pdf.repaired) {
      context.logger.warn(
        { event: 'ocr.pdf.repaired', page_count: pdf.info.pageCount },
        'damaged PDF repaired by qpdf',
      );
    }
    const input = { ...received, inputPath: pdf.path };
    const { info } = pdf;
    if (info.pageCount > limits.maxPages) {
      throw tooComplex(`The PDF has ${info.pageCount} pages; at most ${limits.maxPages} are accepted.`);
    }
    const renderDir = path.join(input.workDir, 'pages');
    await mkdir(renderDir, { recursive: true });
    const source: PageSource = {
      kind: 'pdf',
      pageCount: info.pageCount,
      image: async (page, pageSignal) => {
        // A page can be declared 200 inches wide: its size, not the file's, decides the pixels.
        const size = await readPdfPageSize(input.inputPath, page, { signal: pageSignal });
        const pixels = size
          ? Math.ceil((size.widthPt / 72) * dpi) * Math.ceil((size.heightPt / 72) * dpi)
          : 0;
        if (pixels > limits.maxImagePixels) {
          throw tooComplex(
            `Page ${page} would be ${pixels} pixels at ${dpi} dpi; at most ${limits.maxImagePixels} are accepted.`,
          );
        }
        return {
          path: await renderPdfPage(input.inputPath, page, { dpi, outDir: renderDir, signal: pageSignal }),
          dpi,
          temporary: true,
        };
      },
    };
    return { source, input };
  }
  const input = received;
  await checkImageSize(input.inputPath, limits);
  if (input.inputMime === 'image/tiff') {
    await checkTiffPages(input.inputPath, limits);
    const pages = await splitTiff(input.inputPath, path.join(input.workDir, 'tiff'), { signal });
    return {
      source: {
        kind: 'image',
        pageCount: pages.length,
        image: async (page) => ({ path: pages[page - 1] as string, temporary: true }),
      },
      input,
    };
  }
  return {
    source: { kind: 'image', pageCount: 1, image: async () => ({ path: input.inputPath, temporary: false }) },
    input,
  };
}

/** The page's timeout from its pixels, read from the image header whatever its format. */
async function imageTimeoutMs(image: PageImage, pageTimeoutSec: number): Promise<number> {
  return pageTimeoutMs(await readImagePixels(image.path).catch(() => null), pageTimeoutSec);
}

interface OcrTask {
  page: number;
  /** Why the page is OCRed: `image`, `empty`, `broken`, `devanagari`, `forced`. */
  reason: string;
  /** Whether the page gets the engine's text layer in the searchable PDF (pages without text only). */
  overlay: boolean;
}

interface TextLayerPage {
  page: number;
  verdict: TextLayerVerdict;
  text: string;
}

/** The text layer of every page, batch by batch, with a verdict per page. */
async function readTextLayer(
  pdfPath: string,
  pageCount: number,
  signal: AbortSignal,
  onPage: (page: TextLayerPage) => void,
): Promise<void> {
  for (let first = 1; first <= pageCount; first += TEXT_BATCH_PAGES) {
    const last = Math.min(pageCount, first + TEXT_BATCH_PAGES - 1);
    const texts = await extractPdfText(pdfPath, first, last, { signal });
    // Legacy-font detection costs a pdffonts run per page: only where the batch uses such a font.
    const batchHasLegacyFont = (await listPdfFonts(pdfPath, first, last, { signal })).some(
      isLegacyDevanagariFont,
    );
    for (let page = first; page <= last; page++) {
      const text = texts[page - first] ?? '';
      const fonts = batchHasLegacyFont ? await listPdfFonts(pdfPath, page, page, { signal }) : [];
      onPage({ page, text, verdict: assessTextLayer(text, fonts) });
    }
  }
}

async function recognizeDocument(
  deps: OcrPipelineDeps,
  received: PipelineInput,
  context: PipelineContext,
): Promise<PipelineResult> {
  const { signal, logger } = context;
  const options = resolveOptions(deps, received);
  const engine = deps.engines[options.engineName];
  if (!engine) {
    throw new AppError(
      'ENGINE_UNAVAILABLE',
      `OCR engine ${options.engineName} is not configured on this worker.`,
    );
  }
  if (options.policy !== 'text_only') await engine.assertLanguages(received.language);
  const { source, input } = await openSource(received, options.dpi, context, deps.defaults);
  const pageCount = source.pageCount;
  // Page re-reads (tesseract's psm 6, Gemini's second ask) are bounded per job by the page count.
  context.extraWork?.setUnits(pageCount);
  await context.reportProgress({
    stage: `page 1 of ${pageCount}`,
    progress: 1,
    facts: { page_count: pageCount },
    engine: options.engineName,
  });

  const results = new Map<number, PageResult>();
  const ocrQueue: OcrTask[] = [];
  if (source.kind === 'pdf') {
    // The text layer is read even under force_ocr: it tells which pages have none, and only those
    // get an invisible OCR layer in the searchable PDF (others would carry their text twice).
    await readTextLayer(input.inputPath, pageCount, signal, ({ page, text, verdict }) => {
      if (options.policy === 'force_ocr' || (options.policy === 'auto' && verdict !== 'usable')) {
        ocrQueue.push({
          page,
          reason: options.policy === 'force_ocr' ? 'forced' : verdict,
          overlay: verdict === 'empty',
        });
        return;
      }
      const hasText = verdict !== 'empty';
      results.set(page, {
        page,
        source: hasText ? 'text_layer' : 'none',
        text: hasText ? text.replace(/\s+$/, '') : '',
        confidence: verdict === 'usable' ? 1 : null,
        engine: hasText ? 'pdf-text-layer' : null,
        ...(verdict === 'usable' ? {} : { reason: verdict }),
        hints: hasText ? (verdict === 'usable' ? [] : [`text_layer_${verdict}`]) : ['no_text'],
      });
    });
  } else {
    for (let page = 1; page <= pageCount; page++) ocrQueue.push({ page, reason: 'image', overlay: true });
  }
  logger.info(
    {
      event: 'ocr.plan',
      page_count: pageCount,
      policy: options.policy,
      engine: options.engineName,
      text_layer_pages: results.size,
      ocr_pages: ocrQueue.length,
    },
    'pages planned',
  );

  const checkpoints = deps.checkpointStorage
    ? new PageCheckpoints(deps.checkpointStorage, input.jobId)
    : null;
  const artefactDir = path.join(input.workDir, 'artefacts');
  await mkdir(artefactDir, { recursive: true });
  const wantPdf = deps.defaults.searchablePdf;
  const layers: Array<{ page: number; pdfPath: string }> = [];
  const hocrPages: Array<{ page: number; hocrPath: string }> = [];
  let done = results.size;
  let resumed = 0;
  const report = async () => {
    await context.reportProgress({
      stage: done < pageCount ? `page ${done + 1} of ${pageCount}` : 'saving results',
      progress: Math.min(98, Math.floor((done / pageCount) * 97) + 1),
    });
  };
  if (done > 0) await report();

  const engineLabel = `${engine.name} ${await engine.version()}`;
  const pageJob: PageJob = {
    deps,
    engine,
    source,
    input,
    options,
    artefactDir,
    signal,
    ...(context.extraWork ? { extraWork: context.extraWork } : {}),
  };
  const resume = async (page: number): Promise<boolean> => {
    const saved = checkpoints ? await checkpoints.load(page) : null;
    if (!saved || !checkpoints) return false;
    const pdfPath = path.join(artefactDir, `resumed-${page}.pdf`);
    if (await checkpoints.restore(page, 'pdf', pdfPath)) layers.push({ page, pdfPath });
    const hocrPath = path.join(artefactDir, `resumed-${page}.hocr`);
    if (await checkpoints.restore(page, 'hocr', hocrPath)) hocrPages.push({ page, hocrPath });
    results.set(page, saved);
    resumed++;
    done++;
    logger.info({ event: 'ocr.page.resumed', page }, 'page taken from checkpoint');
    await report();
    return true;
  };
  const finish = async (task: OcrTask, read: PageReading, durationMs: number) => {
    const { page } = task;
    read.result.engine = read.result.source === 'ocr' ? engineLabel : null;
    if (checkpoints) await checkpoints.save(read.result, read.artefacts);
    if (read.artefacts.pdfPath) layers.push({ page, pdfPath: read.artefacts.pdfPath });
    if (read.artefacts.hocrPath) hocrPages.push({ page, hocrPath: read.artefacts.hocrPath });
    results.set(page, read.result);
    done++;
    context.observeUnit?.('page', durationMs / 1000);
    logger.info(
      {
        event: 'ocr.page.done',
        page,
        source: read.result.source,
        reason: task.reason,
        chars: read.result.text.length,
        confidence: read.result.confidence,
        languages: read.result.languages,
        psm: read.result.psm,
        hints: read.result.hints,
        duration_ms: Math.round(durationMs),
      },
      'page recognised',
    );
    await report();
  };
  const recognizeGroup = async (group: readonly OcrTask[]) => {
    const pending: OcrTask[] = [];
    for (const task of group) if (!(await resume(task.page))) pending.push(task);
    if (pending.length === 0) return;
    const started = performance.now();
    if (pending.length === 1) {
      const task = pending[0] as OcrTask;
      await finish(task, await recognizePage(pageJob, task), performance.now() - started);
      return;
    }
    const reads = await recognizeBatch(pageJob, pending);
    // The request's time shared by its pages, so per-page durations stay comparable.
    const share = (performance.now() - started) / pending.length;
    for (const [i, task] of pending.entries()) await finish(task, reads[i] as PageReading, share);
  };

  // Engines that read several pages per request get them in groups; the pool then bounds requests.
  const groupSize = engine.recognizeBatch ? Math.max(1, options.batchPages) : 1;
  const groups: OcrTask[][] = [];
  for (let i = 0; i < ocrQueue.length; i += groupSize) groups.push(ocrQueue.slice(i, i + groupSize));
  try {
    await runPagePool(groups, deps.defaults.pagesInFlight, signal, recognizeGroup);
  } catch (error) {
    // State for a retry is worth keeping only when a retry may follow.
    const retryable = isAppError(error) && error.retryable && !signal.aborted;
    if (checkpoints && (!retryable || input.lastAttempt)) await checkpoints.clear();
    throw error;
  }

  const pages = Array.from({ length: pageCount }, (_, i) => results.get(i + 1) as PageResult);
  if (pages.every((p) => p.hints.includes('render_failed'))) {
    throw new AppError('INPUT_UNREADABLE', 'No page of the document could be read.');
  }
  const outputs: PipelineResult['outputs'] = {};
  if (wantPdf && layers.length > 0) {
    outputs.pdf = await buildSearchablePdf(source, input, layers, signal);
  }
  if (deps.defaults.hocr && hocrPages.length > 0) {
    outputs.hocr = await mergeHocr([...hocrPages].sort((a, b) => a.page - b.page));
  }
  const pagesBySource: PagesBySource = { text_layer: 0, ocr: 0, none: 0 };
  for (const p of pages) pagesBySource[p.source]++;
  const confidences = pages.map((p) => p.confidence).filter((c): c is number => c !== null);
  const score =
    confidences.length > 0
      ? Math.round((confidences.reduce((a, b) => a + b, 0) / confidences.length) * 1000) / 1000
      : null;
  outputs.txt = renderOcrText(pages);
  outputs.json = renderOcrJson(pages, { pageCount, pagesBySource, score });
  if (checkpoints) await checkpoints.clear();
  logger.info(
    {
      event: 'ocr.document.done',
      page_count: pageCount,
      pages_by_source: pagesBySource,
      resumed_pages: resumed,
      score,
    },
    'document recognised',
  );
  const engines = new Set(pages.map((p) => p.engine).filter((e): e is string => e !== null));
  return {
    outputs,
    engine: engines.has(engineLabel) || engines.size === 0 ? engineLabel : [...engines].join(', '),
    quality: {
      score,
      low_confidence_pages: pages.filter(isLowConfidence).map((p) => p.page),
      hints: summariseHints(pages),
    },
    page_count: pageCount,
    pages_by_source: pagesBySource,
  };
}

interface PageJob {
  deps: OcrPipelineDeps;
  engine: OcrEngine;
  source: PageSource;
  input: PipelineInput;
  options: ResolvedJobOptions;
  artefactDir: string;
  signal: AbortSignal;
  extraWork?: ExtraWorkBudget;
}

interface PageReading {
  result: PageResult;
  artefacts: { pdfPath?: string; hocrPath?: string };
}

function unrenderable(task: OcrTask): PageReading {
  return {
    result: {
      page: task.page,
      source: 'none',
      text: '',
      confidence: null,
      engine: null,
      reason: task.reason,
      hints: ['render_failed'],
    },
    artefacts: {},
  };
}

/** The page's image, or null when this one PDF page cannot be rendered (the document goes on). */
async function pageImage(job: PageJob, task: OcrTask): Promise<PageImage | null> {
  try {
    return await job.source.image(task.page, job.signal);
  } catch (error) {
    if (isAppError(error) && error.code === 'INPUT_UNREADABLE' && job.source.kind === 'pdf') return null;
    throw error;
  }
}

function recognizeOptions(job: PageJob, timeoutMs: number, image: PageImage | undefined): RecognizeOptions {
  return {
    languages: job.input.language,
    signal: job.signal,
    timeoutMs,
    psm: job.options.psm,
    contentSubtype: job.input.contentSubtype,
    ...(job.extraWork ? { extraWork: job.extraWork } : {}),
    ...(image?.dpi ? { dpi: image.dpi } : {}),
  };
}

/** An uploaded image passed content sniffing, so an engine that cannot open it means damage. */
function damagedImage(job: PageJob, error: unknown): unknown {
  if (job.source.kind === 'image' && isAppError(error) && error.code === 'OCR_ENGINE_FAILED') {
    return new AppError('INPUT_UNREADABLE', 'The image is damaged and could not be read.', { cause: error });
  }
  return error;
}

async function recognizePage(job: PageJob, task: OcrTask): Promise<PageReading> {
  const { deps, engine, source } = job;
  const image = await pageImage(job, task);
  if (!image) return unrenderable(task);
  try {
    let recognized: RecognizedPage;
    try {
      recognized = await engine.recognize(image.path, {
        ...recognizeOptions(job, await imageTimeoutMs(image, deps.defaults.pageTimeoutSec), image),
        artefacts: {
          dir: job.artefactDir,
          ...(deps.defaults.searchablePdf && task.overlay
            ? { searchablePdf: source.kind === 'pdf' ? ('text_only' as const) : ('with_image' as const) }
            : {}),
          hocr: deps.defaults.hocr,
        },
      });
    } catch (error) {
      throw damagedImage(job, error);
    }
    return await readingOf(job, task, image, recognized);
  } finally {
    if (image.temporary) await rm(image.path, { force: true });
  }
}

/** Several pages in one engine request; pages that cannot be rendered are reported on their own. */
async function recognizeBatch(job: PageJob, tasks: readonly OcrTask[]): Promise<PageReading[]> {
  const { deps, engine } = job;
  const images = new Map<number, PageImage>();
  try {
    for (const task of tasks) {
      const image = await pageImage(job, task);
      if (image) images.set(task.page, image);
    }
    const readable = tasks.filter((t) => images.has(t.page));
    let timeoutMs = 0;
    for (const task of readable) {
      timeoutMs += await imageTimeoutMs(images.get(task.page) as PageImage, deps.defaults.pageTimeoutSec);
    }
    let recognized: RecognizedPage[] = [];
    if (readable.length > 0 && engine.recognizeBatch) {
      const paths = readable.map((t) => (images.get(t.page) as PageImage).path);
      try {
        recognized = await engine.recognizeBatch(
          paths,
          recognizeOptions(job, timeoutMs, images.get(readable[0]?.page ?? 0)),
        );
      } catch (error) {
        throw damagedImage(job, error);
      }
      if (recognized.length !== readable.length) {
        throw new AppError(
          'OCR_ENGINE_FAILED',
          `${engine.name} answered ${recognized.length} pages for ${readable.length}.`,
        );
      }
    }
    const readings: PageReading[] = [];
    for (const task of tasks) {
      const image = images.get(task.page);
      const index = readable.indexOf(task);
      readings.push(
        image ? await readingOf(job, task, image, recognized[index] as RecognizedPage) : unrenderable(task),
      );
    }
    return readings;
  } finally {
    for (const image of images.values()) if (image.temporary) await rm(image.path, { force: true });
  }
}

/** The page's result from what the engine read, with hints, and its searchable layer. */
async function readingOf(
  job: PageJob,
  task: OcrTask,
  image: PageImage,
  recognized: RecognizedPage,
): Promise<PageReading> {
  const { deps, input } = job;
  const hints = await hintsForPage(recognized, {
    imagePath: image.path,
    languages: input.language,
    lowConfidence: LOW_CONFIDENCE,
    signal: job.signal,
    ...(deps.hintProbe ? { probe: deps.hintProbe } : {}),
  });
  const pdfPath = recognized.pdfPath ?? (await textLayerFromText(job, task, image, recognized.text));
  return {
    result: {
      page: task.page,
      source: 'ocr',
      text: recognized.text,
      confidence: recognized.meanConfidence,
      engine: job.engine.name,
      reason: task.reason,
      languages: recognized.languagesUsed,
      ...(recognized.psm ? { psm: recognized.psm } : {}),
      words: recognized.wordCount,
      hints,
    },
    artefacts: {
      ...(pdfPath ? { pdfPath } : {}),
      ...(recognized.hocrPath ? { hocrPath: recognized.hocrPath } : {}),
    },
  };
}

/**
 * For engines that give text without word boxes (Gemini, tesseract.js): a page-level invisible text
 * layer (see write-text-layer-pdf.ts), so every scanned input gets its searchable PDF whatever the
 * engine. PDF input: the layer alone, laid over the original page later. Image input: the image as a
 * PDF page with the layer over it. Undefined when no layer is wanted for this page.
 */
async function textLayerFromText(
  job: PageJob,
  task: OcrTask,
  image: PageImage,
  text: string,
): Promise<string | undefined> {
  if (!job.deps.defaults.searchablePdf || !task.overlay) return undefined;
  const { signal, artefactDir, source, input } = job;
  const layer = path.join(artefactDir, `text-layer-${task.page}.pdf`);
  if (source.kind === 'pdf') {
    if (text.trim() === '') return undefined;
    const size = await readPdfPageSize(input.inputPath, task.page, { signal });
    return size ? await writeTextLayerPdf(layer, text, size) : undefined;
  }
  // An image page is always part of the searchable PDF, even when nothing was read on it.
  const pageDir = path.join(artefactDir, `image-page-${task.page}`);
  await mkdir(pageDir, { recursive: true });
  const imagePdf = await imageToPdf(image.path, path.join(pageDir, 'image.pdf'), {
    dpi: image.dpi ?? 300,
    signal,
  });
  const size = await readPdfPageSize(imagePdf, 1, { signal });
  if (!size) throw new AppError('OCR_ENGINE_FAILED', `Page ${task.page} could not be made into a PDF page.`);
  await writeTextLayerPdf(layer, text, size);
  const out = await overlayTextLayers(imagePdf, [{ page: 1, pdfPath: layer }], { workDir: pageDir, signal });
  const kept = path.join(artefactDir, `searchable-${task.page}.pdf`);
  await rename(out, kept);
  await rm(pageDir, { recursive: true, force: true });
  return kept;
}

async function buildSearchablePdf(
  source: PageSource,
  input: PipelineInput,
  layers: ReadonlyArray<{ page: number; pdfPath: string }>,
  signal: AbortSignal,
): Promise<Readable> {
  const sorted = [...layers].sort((a, b) => a.page - b.page);
  const out =
    source.kind === 'pdf'
      ? await overlayTextLayers(input.inputPath, sorted, { workDir: input.workDir, signal })
      : await joinPdfs(
          sorted.map((l) => l.pdfPath),
          path.join(input.workDir, 'searchable.pdf'),
          { signal },
        );
  // Streamed into storage: a searchable PDF can be as large as the upload.
  return createReadStream(out);
}
