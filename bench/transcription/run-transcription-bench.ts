/**
 * Transcription benchmark (issue 5), through the WHOLE service (HTTP submit → Redis queue →
 * worker → result) as separate `serve --role api` and `serve --role worker` processes:
 * - real-time factor of a pocketsphinx transcription job (decode once, chunks cut at silences,
 *   N chunks in flight, seam merge, outputs) against the bare `pocketsphinx_continuous` CLI on the
 *   same 16 kHz audio with the same parallelism, in one run: the bare side cuts the file into
 *   plain chunks of the same target length (byte ranges, no overlap, no lead-in) and runs the CLI
 *   with the engine's search settings on them in N lanes, as a careful shell script would;
 * - peak RSS (VmHWM) of the worker Node process and of each child program during the job,
 *   sampled from /proc (`--minutes 180 --no-bare` measures the 3-hour figure of the issue alone).
 *
 *   npx tsx bench/transcription/run-transcription-bench.ts [--minutes 6] [--in-flight 2] [--chunk-sec 60] [--no-bare] [--report-only]
 *
 * Exits non-zero when the ratio service / bare is under 0.9 or the worker's peak RSS is 300 MiB or
 * more, unless `--report-only`.
 */
import { openAsBlob } from 'node:fs';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { parseArgs } from 'node:util';
import { PocketsphinxOutputParser } from '../../src/engines/speech/pocketsphinx-output-parser.js';
import { writeWavSlice } from '../../src/media/ffmpeg/write-wav-slice.js';
import { runChildProcess } from '../../src/process/run-child-process.js';
import { loopWav, makeRiverTalkWav } from '../../test/helpers/make-media-fixtures.js';
import { samplePeakRss } from '../ocr/sample-peak-rss.js';
import { recordResult } from '../shared/bench-results.js';
import { deleteRedisPrefix } from '../shared/delete-redis-prefix.js';
import { type ServiceProcess, startServiceProcess } from '../shared/service-process.js';

const { values } = parseArgs({
  options: {
    minutes: { type: 'string', default: '6' },
    'in-flight': { type: 'string', default: '2' },
    'chunk-sec': { type: 'string', default: '60' },
    'no-bare': { type: 'boolean', default: false },
    'report-only': { type: 'boolean', default: false },
  },
});
const minutes = Number(values.minutes);
const inFlight = Number(values['in-flight']);
const chunkSec = Number(values['chunk-sec']);
/**
 * /proc is walked every SAMPLE_MS (every process's status file: this kernel has no `children`
 * lists). VmHWM is a high-water mark, so a longer interval loses nothing but the last moments of a
 * chunk's engine; at 50 ms the walk took a quarter of a core from the run it measures.
 */
const SAMPLE_MS = 250;
const withBare = !values['no-bare'];
const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
// The same search settings the engine uses (src/engines/speech/pocketsphinx-engine.ts).
const PRUNING = ['-maxhmmpf', '3000', '-maxwpf', '10', '-pl_window', '5'];
const RSS_LIMIT_MIB = 300;

async function timed(fn: () => Promise<void>): Promise<number> {
  const started = performance.now();
  await fn();
  return (performance.now() - started) / 1000;
}

async function durationOf(file: string): Promise<number> {
  const { stdout } = await runChildProcess(
    'ffprobe',
    ['-v', 'error', '-show_entries', 'format=duration', '-of', 'csv=p=0', file],
    { timeoutMs: 60_000 },
  );
  return Number(stdout.toString('utf8').trim());
}

/** The bare CLI: plain chunks of `chunkSec` cut by byte range, `pocketsphinx_continuous` on them in N lanes. */
async function runBareCli(audio: string, durationSec: number, workDir: string): Promise<number> {
  await mkdir(workDir, { recursive: true });
  const count = Math.max(1, Math.ceil(durationSec / chunkSec));
  let next = 0;
  let words = 0;
  const lane = async () => {
    while (next < count) {
      const index = next++;
      const chunk = path.join(workDir, `chunk-${index}.wav`);
      await writeWavSlice(audio, chunk, index * chunkSec, Math.min(durationSec, (index + 1) * chunkSec));
      const { stdout } = await runChildProcess(
        'pocketsphinx_continuous',
        ['-infile', chunk, '-time', 'yes', '-logfn', '/dev/null', ...PRUNING],
        { timeoutMs: 3_600_000 },
      );
      const parser = new PocketsphinxOutputParser();
      for (const line of [...stdout.toString('utf8').split('\n'), '']) {
        words += parser.push(line)?.words?.length ?? 0;
      }
      words += parser.finish()?.words?.length ?? 0;
      await rm(chunk, { force: true });
    }
  };
  await Promise.all(Array.from({ length: inFlight }, lane));
  return words;
}

interface JobView {
  job_id: string;
  status: string;
  media_duration_sec?: number | null;
  processing_duration_sec?: number | null;
  error_code?: string | null;
}

/** Uploads a recording as a transcription job and waits for its end: upload, queue, worker, result. */
async function runJob(api: ServiceProcess, wav: string): Promise<{ job: JobView; words: number }> {
  const form = new FormData();
  form.append('job_type', 'TRANSCRIPTION');
  form.append('language', 'en');
  // Streamed from disk: a 3-hour WAV is 345 MB, which the bench process need not hold.
  form.append('file', await openAsBlob(wav), path.basename(wav));
  const answer = await fetch(`${api.url}/v1/jobs`, { method: 'POST', body: form });
  if (answer.status !== 201) throw new Error(`submit answered ${answer.status}: ${await answer.text()}`);
  const { job_id } = (await answer.json()) as JobView;
  for (;;) {
    const job = (await (await fetch(`${api.url}/v1/jobs/${job_id}`)).json()) as JobView;
    if (job.status === 'COMPLETED') {
      const text = await (await fetch(`${api.url}/v1/jobs/${job_id}/result?format=txt`)).text();
      return { job, words: text.split(/\s+/).filter(Boolean).length };
    }
    if (job.status === 'FAILED' || job.status === 'CANCELLED') {
      throw new Error(`job ${job_id} ended ${job.status} (${job.error_code})`);
    }
    await sleep(200);
  }
}

const dir = await mkdtemp(path.join(os.tmpdir(), 'dt-bench-transcription-'));
const lines: string[] = [];
const say = (line: string) => {
  console.log(line);
  lines.push(line);
};
const mib = (kib: number) => `${(kib / 1024).toFixed(0)} MiB`;
let ratio = 1;
let workerPeakKib = 0;
const prefix = `dt-bench:transcription:${Date.now()}`;
try {
  const talk = await makeRiverTalkWav();
  const talkSec = await durationOf(talk);
  const looped = await loopWav(dir, talk, Math.max(1, Math.ceil((minutes * 60) / talkSec)));
  // The recording both sides get, exactly `--minutes` long: 16 kHz mono 16-bit WAV, the format the
  // pipeline decodes to.
  const audio = path.join(dir, 'talk-16k.wav');
  const length = ['-t', String(minutes * 60)];
  await runChildProcess(
    'ffmpeg',
    [
      '-nostdin',
      '-v',
      'error',
      '-i',
      looped,
      ...length,
      '-ac',
      '1',
      '-ar',
      '16000',
      '-c:a',
      'pcm_s16le',
      audio,
    ],
    { timeoutMs: 600_000 },
  );
  await rm(looped, { force: true });
  const durationSec = await durationOf(audio);
  const warmAudio = path.join(dir, 'warm-16k.wav');
  await writeWavSlice(audio, warmAudio, 0, Math.min(durationSec, 10));
  say(
    `cores: ${os.availableParallelism()}, audio: ${(durationSec / 60).toFixed(1)} min of flite speech (the river talk looped), 16 kHz mono WAV, ` +
      `chunks: ${chunkSec} s, chunks in flight: ${inFlight}`,
  );
  say('');
  say('| measure | value |');
  say('| --- | --- |');

  const env = {
    DATA_DIR: path.join(dir, 'data'),
    REDIS_URL,
    REDIS_KEY_PREFIX: prefix,
    RATE_LIMIT_MAX: '0',
    RATE_LIMIT_PUBLIC_MAX: '0',
    QUOTA_ACTIVE_JOBS: '0',
    QUOTA_JOBS_PER_DAY: '0',
    WORKER_QUEUES: 'transcription',
    WORKER_TRANSCRIPTION_CONCURRENCY: '1',
    TRANSCRIPTION_ENGINE: 'pocketsphinx',
    TRANSCRIPTION_CHUNK_SEC: String(chunkSec),
    TRANSCRIPTION_CHUNKS_IN_FLIGHT: String(inFlight),
    TRANSCRIPTION_MAX_DURATION_SEC: String(Math.max(4 * 3600, Math.ceil(durationSec) + 60)),
    RECONCILER_INTERVAL_MS: '0',
  };
  const api = await startServiceProcess('api', env);
  const worker = await startServiceProcess('worker', env);
  try {
    // Warm-up: page cache, the acoustic model and both processes' code loaded once before measuring.
    if (withBare) await runBareCli(warmAudio, Math.min(durationSec, 10), path.join(dir, 'warm'));
    await runJob(api, warmAudio);

    let bareSec = 0;
    let bareWords = 0;
    if (withBare) {
      // The same /proc sampling runs during both measures, so its CPU weighs on both alike (its
      // figures for the bare run are not reported: the bench's own tree holds the service too).
      const bareSampler = samplePeakRss(process.pid, SAMPLE_MS);
      bareSec = await timed(async () => {
        bareWords = await runBareCli(audio, durationSec, path.join(dir, 'bare'));
      });
      await bareSampler.stop();
      say(
        `| bare \`pocketsphinx_continuous\`, ${chunkSec} s byte-range chunks in ${inFlight} lanes | ${bareSec.toFixed(1)} s, RTF ${(bareSec / durationSec).toFixed(3)} (${(durationSec / bareSec).toFixed(1)} audio-min/min), ${bareWords} words |`,
      );
    }
    const sampler = samplePeakRss(worker.pid, SAMPLE_MS);
    let result: { job: JobView; words: number } | undefined;
    const serviceSec = await timed(async () => {
      result = await runJob(api, audio);
    });
    const peaks = await sampler.stop();
    workerPeakKib = peaks.rootKib;
    say(
      `| service, HTTP submit → worker → COMPLETED (${chunkSec} s chunks cut at silences, ${inFlight} in flight) | ${serviceSec.toFixed(1)} s, RTF ${(serviceSec / durationSec).toFixed(3)} (${(durationSec / serviceSec).toFixed(1)} audio-min/min), ${result?.words ?? 0} words |`,
    );
    if (withBare) {
      ratio = bareSec / serviceSec;
      say(
        `| throughput ratio service / bare | **${ratio.toFixed(3)}** (${ratio >= 0.9 ? '≥ 0.9 ✓' : 'below 0.9 ✗'}) |`,
      );
    }
    say(
      `| peak RSS, worker Node process | ${mib(peaks.rootKib)} (${peaks.rootKib / 1024 < RSS_LIMIT_MIB ? `< ${RSS_LIMIT_MIB} MiB ✓` : `≥ ${RSS_LIMIT_MIB} MiB ✗`}) |`,
    );
    for (const [name, entry] of [...peaks.children].sort((a, b) => b[1].peakKib - a[1].peakKib)) {
      say(`| peak RSS, ${name} | ${mib(entry.peakKib)} (largest of ${entry.instances} seen) |`);
    }
  } finally {
    await worker.stop();
    await api.stop();
  }
} finally {
  await deleteRedisPrefix(REDIS_URL, prefix);
  await rm(dir, { recursive: true, force: true });
}
await recordResult(
  'Transcription',
  `npx tsx bench/transcription/run-transcription-bench.ts --minutes ${minutes} --in-flight ${inFlight} --chunk-sec ${chunkSec}${withBare ? '' : ' --no-bare'}`,
  lines,
);
if (!values['report-only'] && (ratio < 0.9 || workerPeakKib / 1024 >= RSS_LIMIT_MIB)) process.exitCode = 1;
