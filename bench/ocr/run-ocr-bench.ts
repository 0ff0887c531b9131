/**
 * OCR throughput and memory:
 * - pages per minute through the OCR pipeline against the bare tesseract CLI with the same
 *   settings and parallelism (render with pdftoppm, then `tesseract … tsv`, N pages at once);
 * - text-layer pages per second on a 500-page born-digital PDF;
 * - peak RSS (VmHWM) of the Node process running the pipeline as a worker does, and of each child
 *   program, while it reads a long scanned PDF (`--pages`, 500 by default; `--pages 0` skips it).
 *
 *   npx tsx bench/ocr/run-ocr-bench.ts [--compare-pages 16] [--pages 500] [--in-flight <cores>] [--dpi 300] [--text-pages 500]
 */

import { spawn } from 'node:child_process';
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
import {
  makeBornDigitalPdf,
  makeLongScannedPdf,
  makeScannedPdf,
} from '../../test/helpers/make-ocr-fixtures.js';
import { samplePeakRss } from './sample-peak-rss.js';

const { values } = parseArgs({
  options: {
    'compare-pages': { type: 'string', default: '16' },
    pages: { type: 'string', default: '500' },
    'in-flight': { type: 'string', default: String(os.availableParallelism()) },
    dpi: { type: 'string', default: '300' },
    'text-pages': { type: 'string', default: '500' },
  },
});
const pages = Number(values['compare-pages']);
const longPages = Number(values.pages);
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

const mib = (kib: number) => `${(kib / 1024).toFixed(0)} MiB`;

/** The pipeline in its own Node process on a long scanned PDF, its process tree sampled from here. */
async function measureMemory(dir: string, count: number): Promise<void> {
  const long = await makeLongScannedPdf(dir, count, { dpi });
  const workDir = path.join(dir, 'long');
  await mkdir(workDir, { recursive: true });
  const script = path.join(import.meta.dirname, 'ocr-pipeline-process.ts');
  const child = spawn(
    process.execPath,
    ['--import', 'tsx', script, long.path, workDir, String(inFlight), String(dpi), LANGUAGE],
    { stdio: ['ignore', 'pipe', 'inherit'] },
  );
  const sampler = samplePeakRss(child.pid as number);
  let out = '';
  child.stdout.on('data', (chunk: Buffer) => {
    out += chunk.toString('utf8');
  });
  const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
  const peaks = await sampler.stop();
  if (code !== 0) throw new Error(`ocr-pipeline-process exited ${code}`);
  const own = JSON.parse(out.trim().split('\n').at(-1) as string) as {
    pages: number;
    seconds: number;
    vm_hwm_kib: number;
  };
  console.log(
    `long scanned PDF: ${own.pages} pages (auto, psm auto, searchable PDF, quality probe) in ${own.seconds.toFixed(1)} s = ${((own.pages / own.seconds) * 60).toFixed(1)} pages/min`,
  );
  console.log(`  peak RSS, pipeline Node process: ${mib(Math.max(own.vm_hwm_kib, peaks.rootKib))}`);
  for (const [name, entry] of [...peaks.children].sort((a, b) => b[1].peakKib - a[1].peakKib)) {
    console.log(
      `  peak RSS, ${name.padEnd(12)} ${mib(entry.peakKib).padStart(8)} (largest of ${entry.instances} seen)`,
    );
  }
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
  if (longPages > 0) await measureMemory(dir, longPages);
  if (ratio < 0.9) process.exitCode = 1;
} finally {
  await rm(dir, { recursive: true, force: true });
}
