/**
 * OCR throughput: pages per minute through the OCR pipeline against the bare tesseract CLI with
 * the same settings and parallelism (render with pdftoppm, then `tesseract … tsv`, N pages at
 * once), and text-layer pages per second on a 500-page born-digital PDF.
 *
 *   npx tsx bench/ocr/run-ocr-bench.ts [--pages 16] [--in-flight <cores>] [--dpi 300]
 */
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { pino } from 'pino';
import { TesseractEngine } from '../../src/engines/ocr/tesseract-engine.js';
import { createOcrPipeline, DEFAULT_OCR_OPTIONS } from '../../src/pipelines/ocr/run-ocr-pipeline.js';
import type { Pipeline } from '../../src/pipelines/pipeline.js';
import { runChildProcess } from '../../src/process/run-child-process.js';
import { makeBornDigitalPdf, makeScannedPdf } from '../../test/helpers/make-ocr-fixtures.js';

const { values } = parseArgs({
  options: {
    pages: { type: 'string', default: '16' },
    'in-flight': { type: 'string', default: String(os.availableParallelism()) },
    dpi: { type: 'string', default: '300' },
    'text-pages': { type: 'string', default: '500' },
  },
});
const pages = Number(values.pages);
const inFlight = Number(values['in-flight']);
const dpi = Number(values.dpi);
const textPages = Number(values['text-pages']);
const LANGUAGE = 'eng';

async function runPipeline(pipeline: Pipeline, pdf: string, workDir: string): Promise<void> {
  await mkdir(workDir, { recursive: true });
  await pipeline(
    {
      jobId: 'bench',
      inputPath: pdf,
      inputMime: 'application/pdf',
      language: LANGUAGE,
      contentSubtype: 'general',
      workDir,
    },
    {
      signal: new AbortController().signal,
      logger: pino({ level: 'silent' }),
      reportProgress: async () => {},
    },
  );
}

/** What a careful shell script would do: N lanes, each rendering a page and running tesseract on it. */
async function runBareCli(pdf: string, count: number, workDir: string): Promise<void> {
  await mkdir(workDir, { recursive: true });
  let next = 1;
  const lane = async () => {
    while (next <= count) {
      const page = next++;
      const base = path.join(workDir, `p${page}`);
      await runChildProcess('pdftoppm', [
        '-f',
        String(page),
        '-l',
        String(page),
        '-r',
        String(dpi),
        '-gray',
        '-png',
        '-singlefile',
        pdf,
        base,
      ]);
      await runChildProcess(
        'tesseract',
        [`${base}.png`, 'stdout', '-l', LANGUAGE, '--psm', '3', '--dpi', String(dpi), 'tsv'],
        {
          env: { OMP_THREAD_LIMIT: '1' },
        },
      );
      await rm(`${base}.png`, { force: true });
    }
  };
  await Promise.all(Array.from({ length: inFlight }, lane));
}

async function timed(fn: () => Promise<void>): Promise<number> {
  const started = performance.now();
  await fn();
  return (performance.now() - started) / 1000;
}

const dir = await mkdtemp(path.join(os.tmpdir(), 'dt-bench-ocr-'));
try {
  const scanned = await makeScannedPdf(dir, pages, { dpi });
  // Same settings as the bare run: fixed psm 3 (no retry), one language, no searchable PDF.
  const pipeline = createOcrPipeline({
    engines: { tesseract: new TesseractEngine() },
    defaults: {
      ...DEFAULT_OCR_OPTIONS,
      policy: 'force_ocr',
      psm: '3',
      dpi,
      pagesInFlight: inFlight,
      searchablePdf: false,
    },
  });
  // Warm-up: page cache and traineddata loaded once before measuring either side.
  await runBareCli(scanned.path, Math.min(2, pages), path.join(dir, 'warm'));
  const bareSec = await timed(() => runBareCli(scanned.path, pages, path.join(dir, 'bare')));
  const pipelineSec = await timed(() => runPipeline(pipeline, scanned.path, path.join(dir, 'pipeline')));
  const barePpm = (pages / bareSec) * 60;
  const pipelinePpm = (pages / pipelineSec) * 60;

  const digital = await makeBornDigitalPdf(dir, textPages);
  const textPipeline = createOcrPipeline({
    engines: { tesseract: new TesseractEngine() },
    defaults: { ...DEFAULT_OCR_OPTIONS, pagesInFlight: inFlight },
  });
  const textSec = await timed(() => runPipeline(textPipeline, digital, path.join(dir, 'text')));

  const ratio = pipelinePpm / barePpm;
  console.log(
    `cores: ${os.availableParallelism()}, pages in flight: ${inFlight}, dpi: ${dpi}, scanned A6 pages: ${pages}, language: ${LANGUAGE}`,
  );
  console.log(
    `bare tesseract CLI (pdftoppm + tesseract tsv, psm 3): ${barePpm.toFixed(1)} pages/min (${bareSec.toFixed(2)} s)`,
  );
  console.log(
    `OCR pipeline (force_ocr, psm 3):                      ${pipelinePpm.toFixed(1)} pages/min (${pipelineSec.toFixed(2)} s)`,
  );
  console.log(
    `ratio pipeline / bare: ${ratio.toFixed(3)} (${ratio >= 0.9 ? 'meets' : 'BELOW'} the 0.9 target)`,
  );
  console.log(
    `text layer: ${textPages} born-digital pages in ${textSec.toFixed(2)} s = ${(textPages / textSec).toFixed(0)} pages/s`,
  );
  if (ratio < 0.9) process.exitCode = 1;
} finally {
  await rm(dir, { recursive: true, force: true });
}
