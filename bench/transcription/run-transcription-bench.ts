/**
 * Transcription benchmark (issue 5): real-time factor of the whole transcription pipeline
 * (decode once, chunks cut at silences, pocketsphinx on several chunks at once, seam merge,
 * outputs) against the bare pocketsphinx CLI on the same 16 kHz audio, in one run; and the peak
 * RSS of this Node process while the pipeline runs on a long recording.
 *
 *   npx tsx bench/transcription/run-transcription-bench.ts [--minutes 6] [--in-flight 2]
 */
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { PocketsphinxEngine } from '../../src/engines/speech/pocketsphinx-engine.js';
import { probeMedia } from '../../src/media/ffmpeg/probe-media.js';
import { createLogger } from '../../src/observability/logger.js';
import { createTranscriptionPipeline } from '../../src/pipelines/transcription/run-transcription-pipeline.js';
import { runChildProcess } from '../../src/process/run-child-process.js';
import { LocalDiskStorage } from '../../src/storage/local-disk-storage.js';
import { loopWav, makeRiverTalkWav } from '../../test/helpers/make-media-fixtures.js';

const { values } = parseArgs({
  options: { minutes: { type: 'string', default: '6' }, 'in-flight': { type: 'string', default: '2' } },
});
const minutes = Number(values.minutes);
const inFlight = Number(values['in-flight']);
// The same search settings the engine uses (src/engines/speech/pocketsphinx-engine.ts).
const PRUNING = ['-maxhmmpf', '3000', '-maxwpf', '10', '-pl_window', '5'];

const dir = await mkdtemp(path.join(os.tmpdir(), 'dt-bench-transcription-'));
try {
  const talk = await makeRiverTalkWav();
  const talkSec = (await probeMedia(talk)).durationSec ?? 180;
  const looped = await loopWav(dir, talk, Math.max(1, Math.round((minutes * 60) / talkSec)));
  const audio = path.join(dir, 'audio-16k.wav');
  await runChildProcess(
    'ffmpeg',
    ['-v', 'error', '-i', looped, '-ac', '1', '-ar', '16000', '-c:a', 'pcm_s16le', audio],
    {
      timeoutMs: 600_000,
    },
  );
  const durationSec = (await probeMedia(audio)).durationSec ?? 0;
  console.log(
    `audio: ${(durationSec / 60).toFixed(1)} min of flite speech (the river talk looped), 16 kHz mono`,
  );

  let started = performance.now();
  await runChildProcess(
    'pocketsphinx_continuous',
    ['-infile', audio, '-time', 'yes', '-logfn', '/dev/null', ...PRUNING],
    {
      timeoutMs: 3_600_000,
    },
  );
  const bareSec = (performance.now() - started) / 1000;

  const pipeline = createTranscriptionPipeline({
    engine: new PocketsphinxEngine(),
    maxDurationSec: 24 * 3600,
    chunking: { targetSec: 60, overlapSec: 1, inFlight },
    checkpointStorage: new LocalDiskStorage(path.join(dir, 'storage')),
  });
  const rssBefore = process.memoryUsage().rss;
  started = performance.now();
  const result = await pipeline(
    {
      jobId: 'bench',
      inputPath: looped,
      inputMime: 'audio/wav',
      language: 'en',
      contentSubtype: 'general',
      workDir: await mkdtemp(path.join(dir, 'work-')),
    },
    {
      signal: new AbortController().signal,
      logger: createLogger({ level: 'silent', role: 'bench' }),
      reportProgress: async () => undefined,
    },
  );
  const pipelineSec = (performance.now() - started) / 1000;
  const peakRssMb = process.resourceUsage().maxRSS / 1024;

  console.log(
    `bare pocketsphinx_continuous (1 process, whole file): ${bareSec.toFixed(1)} s, RTF ${(bareSec / durationSec).toFixed(3)}`,
  );
  console.log(
    `pipeline (${inFlight} chunks in flight, 60 s chunks cut at silences): ${pipelineSec.toFixed(1)} s, RTF ${(pipelineSec / durationSec).toFixed(3)}, ` +
      `${String(result.outputs.txt ?? '').split(/\s+/).length} words`,
  );
  console.log(`throughput ratio pipeline / bare: ${(bareSec / pipelineSec).toFixed(2)} (target ≥ 0.9)`);
  console.log(
    `Node process RSS: ${(rssBefore / 1024 / 1024).toFixed(0)} MB before, peak ${peakRssMb.toFixed(0)} MB (target < 300 MB)`,
  );
} finally {
  await rm(dir, { recursive: true, force: true });
}
