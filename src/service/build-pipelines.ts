import type { Config } from '../config/index.js';
import type { JobType } from '../contract/index.js';
import { TesseractEngine } from '../engines/ocr/tesseract-engine.js';
import { PocketsphinxEngine } from '../engines/speech/pocketsphinx-engine.js';
import { createOcrPipeline } from '../pipelines/ocr/run-ocr-pipeline.js';
import type { Pipeline } from '../pipelines/pipeline.js';
import { createTranscriptionPipeline } from '../pipelines/transcription/run-transcription-pipeline.js';

/** The pipeline of each job type with the engines the config selects (local engines for now). */
export function buildPipelines(config: Config): Record<JobType, Pipeline> {
  return {
    OCR: createOcrPipeline({
      engine: new TesseractEngine(),
      dpi: config.ocr.dpi,
      pageTimeoutSec: config.ocr.pageTimeoutSec,
    }),
    TRANSCRIPTION: createTranscriptionPipeline({
      engine: new PocketsphinxEngine(),
      maxDurationSec: config.transcription.maxDurationSec,
    }),
  };
}
