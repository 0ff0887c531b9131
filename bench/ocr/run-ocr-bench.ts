/**
 * OCR throughput and memory, through the WHOLE service (HTTP submit → Redis queue → worker → result)
 * as separate `serve --role api` and `serve --role worker` processes:
 * - pages per minute of a scanned PDF job against the bare tesseract CLI with the same settings and
 *   parallelism (render with pdftoppm, then `tesseract … tsv`, N pages at once), in one run;
 * - text-layer pages per second of a 500-page born-digital PDF job;
 * - peak RSS (VmHWM) of the worker process and of each child program while it runs a long scanned
 *   PDF job (`--pages`, 500 by default; `--pages 0` skips it), sampled from /proc.
 *
 *   npm run bench:ocr -- [--compare-pages 16] [--pages 500] [--in-flight <cores>] [--dpi 300] [--text-pages 500] [--report-only]
 *
 * Exits non-zero when the ratio service / bare is under 0.9, unless `--report-only`.
 */

import { mkdir, mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { parseArgs } from 'node:util';
import { runChildProcess } from '../../src/process/run-child-process.js';
import {
  makeBornDigitalPdf,
  makeLongScannedPdf,
  makeScannedPdf,
} from '../../test/helpers/make-ocr-fixtures.js';
import { recordResult } from '../shared/bench-results.js';
import { deleteRedisPrefix } from '../shared/delete-redis-prefix.js';
import { type ServiceProcess, startServiceProcess } from '../shared/service-process.js';
import { samplePeakRss } from './sample-peak-rss.js';

const { values } = parseArgs({
  options: {
    'compare-pages': { type: 'string', default: '16' },
    pages: { type: 'string', default: '500' },
    'in-flight': { type: 'string', default: String(os.availableParallelism()) },
    dpi: { type: 'string', default: '300' },
    'text-pages': { type: 'string', default: '500' },
    'report-only': { type: 'boolean', default: false },
  },
});
const pages = Number(values['compare-pages']);
const longPages = Number(values.pages);
const inFlight = Number(values['in-flight']);
const dpi = Number(values.dpi);
const textPages = Number(values['text-pages']);
const LANGUAGE = 'eng';
const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';

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

interface Deployment {
  api: ServiceProcess;
  worker: ServiceProcess;
  prefix: string;
  stop(): Promise<void>;
}

/** One API and one worker process on their own Redis prefix and data directory, as an operator runs them. */
async function deploy(dir: string, name: string, env: Record<string, string>): Promise<Deployment> {
  const prefix = `dt-bench:ocr:${name}:${Date.now()}`;
  const shared = {
    DATA_DIR: path.join(dir, `data-${name}`),
    REDIS_URL,
    REDIS_KEY_PREFIX: prefix,
    RATE_LIMIT_MAX: '0',
    RATE_LIMIT_PUBLIC_MAX: '0',
    QUOTA_ACTIVE_JOBS: '0',
    QUOTA_JOBS_PER_DAY: '0',
    WORKER_QUEUES: 'ocr',
    WORKER_OCR_CONCURRENCY: '1',
    OCR_PAGES_IN_FLIGHT: String(inFlight),
    OCR_DPI: String(dpi),
    OCR_LANGUAGES: LANGUAGE,
    RECONCILER_INTERVAL_MS: '0',
    ...env,
  };
  const api = await startServiceProcess('api', shared);
  const worker = await startServiceProcess('worker', shared);
  return {
    api,
    worker,
    prefix,
    async stop() {
      await worker.stop();
      await api.stop();
      await deleteRedisPrefix(REDIS_URL, prefix);
    },
  };
}

interface JobView {
  job_id: string;
  status: string;
  page_count?: number;
  pages_by_source?: Record<string, number>;
  error_code?: string | null;
}

/** Uploads a PDF as an OCR job and waits for its end; the time covers upload, queue, worker and result. */
async function runJob(api: ServiceProcess, pdf: string, fields: Record<string, string>): Promise<JobView> {
  const form = new FormData();
  for (const [key, value] of Object.entries({ language: LANGUAGE, ...fields })) form.append(key, value);
  form.append('file', new Blob([await readFile(pdf)]), path.basename(pdf));
  const answer = await fetch(`${api.url}/v1/jobs`, { method: 'POST', body: form });
  if (answer.status !== 201) throw new Error(`submit answered ${answer.status}: ${await answer.text()}`);
  const { job_id } = (await answer.json()) as JobView;
  for (;;) {
    const job = (await (await fetch(`${api.url}/v1/jobs/${job_id}`)).json()) as JobView;
    if (job.status === 'COMPLETED') return job;
    if (job.status === 'FAILED' || job.status === 'CANCELLED') {
      throw new Error(`job ${job_id} ended ${job.status} (${job.error_code})`);
    }
    await sleep(100);
  }
}

const dir = await mkdtemp(path.join(os.tmpdir(), 'dt-bench-ocr-'));
const lines: string[] = [];
const say = (line: string) => {
  console.log(line);
  lines.push(line);
};
let ratio = 1;
try {
  const scanned = await makeScannedPdf(dir, pages, { dpi });
  say(
    `cores: ${os.availableParallelism()}, pages in flight: ${inFlight}, dpi: ${dpi}, scanned A6 pages: ${pages}, language: ${LANGUAGE}`,
  );
  say('');
  say('| measure | value |');
  say('| --- | --- |');
  // Same settings on both sides: force_ocr, fixed psm 3 (no retry), one language, no searchable PDF.
  const like = await deploy(dir, 'compare', { OCR_SEARCHABLE_PDF: 'false' });
  let bareSec: number;
  let serviceSec: number;
  try {
    const fields = { ocr_policy: 'force_ocr', ocr_psm: '3', ocr_dpi: String(dpi) };
    // Warm-up: page cache, traineddata and both processes' code loaded once before measuring.
    await runBareCli(scanned.path, Math.min(2, pages), path.join(dir, 'warm'));
    await runJob(like.api, await makeScannedPdf(path.join(dir), 1, { dpi }).then((p) => p.path), fields);
    bareSec = await timed(() => runBareCli(scanned.path, pages, path.join(dir, 'bare')));
    serviceSec = await timed(async () => {
      await runJob(like.api, scanned.path, fields);
    });
  } finally {
    await like.stop();
  }
  const barePpm = (pages / bareSec) * 60;
  const servicePpm = (pages / serviceSec) * 60;
  ratio = servicePpm / barePpm;
  say(
    `| bare tesseract CLI (pdftoppm + tesseract tsv, psm 3) | ${barePpm.toFixed(1)} pages/min (${bareSec.toFixed(2)} s) |`,
  );
  say(
    `| service, HTTP submit → worker → COMPLETED (force_ocr, psm 3) | ${servicePpm.toFixed(1)} pages/min (${serviceSec.toFixed(2)} s) |`,
  );
  say(`| ratio service / bare | **${ratio.toFixed(3)}** (${ratio >= 0.9 ? '≥ 0.9 ✓' : 'below 0.9 ✗'}) |`);

  // The worker's own settings from here on: auto policy, psm auto, searchable PDF, quality probe.
  const worker = await deploy(dir, 'worker', {});
  try {
    const digital = await makeBornDigitalPdf(dir, textPages);
    let textJob: JobView | undefined;
    const textSec = await timed(async () => {
      textJob = await runJob(worker.api, digital, {});
    });
    say(
      `| text layer, ${textPages} born-digital pages (${JSON.stringify(textJob?.pages_by_source ?? {})}) | ${textSec.toFixed(2)} s = ${(textPages / textSec).toFixed(0)} pages/s |`,
    );
    if (longPages > 0) {
      const long = await makeLongScannedPdf(dir, longPages, { dpi });
      const sampler = samplePeakRss(worker.worker.pid);
      let longJob: JobView | undefined;
      const longSec = await timed(async () => {
        longJob = await runJob(worker.api, long.path, {});
      });
      const peaks = await sampler.stop();
      say(
        `| long scanned PDF, worker settings | ${longJob?.page_count ?? longPages} pages in ${longSec.toFixed(1)} s = ${((longPages / longSec) * 60).toFixed(1)} pages/min |`,
      );
      say(`| peak RSS, worker Node process | ${mib(peaks.rootKib)} |`);
      for (const [name, entry] of [...peaks.children].sort((a, b) => b[1].peakKib - a[1].peakKib)) {
        say(`| peak RSS, ${name} | ${mib(entry.peakKib)} (largest of ${entry.instances} seen) |`);
      }
    }
  } finally {
    await worker.stop();
  }
} finally {
  await rm(dir, { recursive: true, force: true });
}
await recordResult(
  'OCR',
  `npm run bench:ocr -- --compare-pages ${pages} --pages ${longPages} --in-flight ${inFlight} --dpi ${dpi} --text-pages ${textPages}`,
  lines,
);
if (ratio < 0.9 && !values['report-only']) process.exitCode = 1;
