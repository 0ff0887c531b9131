/**
 * The OCR pipeline as a worker runs it (auto policy, psm auto, searchable PDF, quality probe),
 * alone in this Node process so its memory can be measured from outside:
 *
 *   npx tsx bench/ocr/ocr-pipeline-process.ts <pdf> <workDir> <pagesInFlight> <dpi> <languages>
 *
 * Prints one JSON line: pages, seconds, and this process's own peak RSS (VmHWM, KiB).
 */
import { readFile } from 'node:fs/promises';
import { performance } from 'node:perf_hooks';
import { pino } from 'pino';
import { TesseractEngine } from '../../src/engines/ocr/tesseract-engine.js';
import { createOcrPipeline, DEFAULT_OCR_OPTIONS } from '../../src/pipelines/ocr/run-ocr-pipeline.js';
import { tesseractHintProbe } from '../../src/pipelines/ocr/tesseract-hint-probe.js';

const [pdf, workDir, inFlight, dpi, languages] = process.argv.slice(2);
if (!pdf || !workDir || !inFlight || !dpi || !languages)
  throw new Error('usage: <pdf> <workDir> <inFlight> <dpi> <languages>');
const tesseract = new TesseractEngine();
const pipeline = createOcrPipeline({
  engines: { tesseract },
  defaults: { ...DEFAULT_OCR_OPTIONS, pagesInFlight: Number(inFlight), dpi: Number(dpi) },
  hintProbe: tesseractHintProbe(tesseract),
});
const started = performance.now();
const result = await pipeline(
  {
    jobId: 'bench-rss',
    inputPath: pdf,
    inputMime: 'application/pdf',
    language: languages,
    contentSubtype: 'general',
    workDir,
  },
  { signal: new AbortController().signal, logger: pino({ level: 'silent' }), reportProgress: async () => {} },
);
// Outputs are streams or strings; draining the PDF stream is part of the job's work.
const pdfOut = result.outputs.pdf;
if (pdfOut && typeof pdfOut !== 'string' && !Buffer.isBuffer(pdfOut)) for await (const _ of pdfOut) void _;
const seconds = (performance.now() - started) / 1000;
const status = await readFile('/proc/self/status', 'utf8');
const hwm = Number(/^VmHWM:\s+(\d+)/m.exec(status)?.[1] ?? 0);
console.log(
  JSON.stringify({
    pages: result.page_count,
    pages_by_source: result.pages_by_source,
    seconds,
    vm_hwm_kib: hwm,
  }),
);
