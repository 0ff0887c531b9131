import { mkdtemp } from 'node:fs/promises';
import path from 'node:path';
import type { SpeechEngine } from '../../src/engines/speech/speech-engine.js';
import { createLogger } from '../../src/observability/logger.js';
import type { PipelineResult } from '../../src/pipelines/pipeline.js';
import { createTranscriptionPipeline } from '../../src/pipelines/transcription/run-transcription-pipeline.js';

/** Runs the transcription pipeline on an English WAV with one engine, as the worker would, in a fresh work dir under `dir`. */
export async function transcribeWithPipeline(
  engine: SpeechEngine,
  wavPath: string,
  dir: string,
  jobId = 'engine-job',
): Promise<PipelineResult> {
  return createTranscriptionPipeline({ engine, maxDurationSec: 600 })(
    {
      jobId,
      inputPath: wavPath,
      inputMime: 'audio/wav',
      language: 'en',
      contentSubtype: 'general',
      workDir: await mkdtemp(path.join(dir, 'work-')),
    },
    {
      signal: new AbortController().signal,
      logger: createLogger({ level: 'silent', role: 'test' }),
      reportProgress: async () => undefined,
    },
  );
}
