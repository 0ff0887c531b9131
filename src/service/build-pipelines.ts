import type { Config } from '../config/index.js';
import type { JobType } from '../contract/index.js';
import { TesseractEngine } from '../engines/ocr/tesseract-engine.js';
import { PocketsphinxEngine } from '../engines/speech/pocketsphinx-engine.js';
import type { SpeechEngine } from '../engines/speech/speech-engine.js';
import { createOcrPipeline } from '../pipelines/ocr/run-ocr-pipeline.js';
import type { Pipeline } from '../pipelines/pipeline.js';
import { createTranscriptionPipeline } from '../pipelines/transcription/run-transcription-pipeline.js';

/** The speech engine `TRANSCRIPTION_ENGINE` names, with its settings. */
export function createSpeechEngine(config: Config): SpeechEngine {
  const settings = config.transcription;
  switch (settings.engine) {
    case 'pocketsphinx':
      return new PocketsphinxEngine();
    default:
      throw new Error(`speech engine ${settings.engine} is not available in this build`);
  }
}

/** The pipeline of each job type with the engines the config selects. */
export function buildPipelines(config: Config): Record<JobType, Pipeline> {
  const transcription = config.transcription;
  return {
    OCR: createOcrPipeline({
      engine: new TesseractEngine(),
      dpi: config.ocr.dpi,
      pageTimeoutSec: config.ocr.pageTimeoutSec,
    }),
    TRANSCRIPTION: createTranscriptionPipeline({
      engine: createSpeechEngine(config),
      maxDurationSec: transcription.maxDurationSec,
      chunking: {
        targetSec: transcription.chunkSec,
        overlapSec: transcription.chunkOverlapSec,
        inFlight: transcription.chunksInFlight,
      },
      onTruncated: transcription.onTruncated,
      repetitionMaxRepeats: transcription.repetitionMaxRepeats,
      checkpointRoot: transcription.checkpointDir,
    }),
  };
}
