import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { AppError } from '../../contract/index.js';
import type { SpeechEngine } from '../../engines/speech/speech-engine.js';
import { decodeToWav } from '../../media/ffmpeg/decode-to-wav.js';
import { probeMedia } from '../../media/ffmpeg/probe-media.js';
import { errorFields } from '../../observability/logger.js';
import type { Pipeline, PipelineContext, PipelineInput, PipelineResult } from '../pipeline.js';
import { stopOnCancel } from '../stop-on-cancel.js';
import { assessTranscriptQuality } from './assess-transcript-quality.js';
import { formatMediaClock } from './format-media-clock.js';
import { ProgressReporter } from './progress-reporter.js';
import { renderTranscriptOutputs } from './render-transcript-outputs.js';

export interface TranscriptionPipelineDeps {
  engine: SpeechEngine;
  /** Longest recording accepted, measured by ffprobe/ffmpeg here, never taken from the client. */
  maxDurationSec: number;
}

/** Progress bands: decoding takes 2–5 %, recognition 5–99 %; the worker sets 100 on completion. */
const DECODE_START = 2;
const TRANSCRIBE_START = 5;
const TRANSCRIBE_SPAN = 94;
/** Measured real-time factor is 0.14–0.28; three times real time means the engine is stuck. */
const ENGINE_TIMEOUT_BASE_MS = 60_000;
const ENGINE_TIMEOUT_MS_PER_AUDIO_SEC = 3_000;
/** Codec padding can make decoded audio a little longer than the container says. */
const DECODED_LENGTH_TOLERANCE_SEC = 0.5;

const roundMs = (seconds: number) => Math.round(seconds * 1000) / 1000;

function tooLong(durationSec: number, maxDurationSec: number): AppError {
  return new AppError(
    'MEDIA_TOO_LONG',
    `The recording lasts ${formatMediaClock(durationSec)}; this service accepts up to ${formatMediaClock(maxDurationSec)}.`,
    { details: { media_duration_sec: roundMs(durationSec), max_duration_sec: maxDurationSec } },
  );
}

function throwIfCancelled(signal: AbortSignal): void {
  if (signal.aborted) throw new AppError('JOB_CANCELLED');
}

/** Recording → probe → 16 kHz mono WAV → speech engine → text, SRT, WebVTT and JSON. */
export function createTranscriptionPipeline(deps: TranscriptionPipelineDeps): Pipeline {
  return stopOnCancel((input, context) => transcribeRecording(deps, input, context));
}

async function transcribeRecording(
  deps: TranscriptionPipelineDeps,
  input: PipelineInput,
  context: PipelineContext,
): Promise<PipelineResult> {
  const { signal, logger } = context;
  const started = performance.now();
  throwIfCancelled(signal);

  const probe = await probeMedia(input.inputPath, { signal });
  if (probe.durationSec !== null && probe.durationSec > deps.maxDurationSec) {
    throw tooLong(probe.durationSec, deps.maxDurationSec);
  }

  const progress = new ProgressReporter(context.reportProgress, (error) =>
    logger.warn({ event: 'transcription.progress_failed', ...errorFields(error) }, 'progress not saved'),
  );
  progress.report({
    stage: 'decoding audio',
    progress: DECODE_START,
    ...(probe.durationSec === null ? {} : { facts: { media_duration_sec: roundMs(probe.durationSec) } }),
  });
  await progress.flush();
  throwIfCancelled(signal);

  const decodeStarted = performance.now();
  const decodeCeilingSec = probe.durationSec ?? deps.maxDurationSec;
  const audio = await decodeToWav(input.inputPath, path.join(input.workDir, 'audio.wav'), {
    signal,
    // A video whose sound stops early is not a truncated file: compare against the audio stream.
    expectedDurationSec: probe.audioDurationSec ?? probe.durationSec,
    maxDurationSec: deps.maxDurationSec,
    logger,
    onProgress: (decodedSec) =>
      progress.report({
        stage: 'decoding audio',
        progress:
          DECODE_START +
          Math.floor(
            (TRANSCRIBE_START - DECODE_START) * Math.min(1, decodedSec / Math.max(decodeCeilingSec, 1)),
          ),
      }),
  });
  // Catches files whose header hides their length; decoding stopped one second past the limit.
  if (audio.decodedDurationSec > deps.maxDurationSec + DECODED_LENGTH_TOLERANCE_SEC) {
    throw tooLong(audio.decodedDurationSec, deps.maxDurationSec);
  }
  const mediaDurationSec = roundMs(probe.durationSec ?? audio.decodedDurationSec);
  logger.info(
    {
      event: 'transcription.decoded',
      media_duration_sec: mediaDurationSec,
      decoded_duration_sec: roundMs(audio.decodedDurationSec),
      truncated_suspected: audio.truncatedSuspected,
      audio_codec: probe.audioCodec,
      format_name: probe.formatName,
      duration_ms: Math.round(performance.now() - decodeStarted),
    },
    'audio decoded',
  );

  // Progress follows the audio the engine actually hears, which a truncated file makes shorter than its header.
  const audioSec = audio.decodedDurationSec;
  const total = formatMediaClock(audioSec);
  progress.report({
    stage: `transcribing ${formatMediaClock(0)} of ${total}`,
    progress: TRANSCRIBE_START,
    facts: { media_duration_sec: mediaDurationSec },
  });
  const segments = await deps.engine.transcribe(audio.wavPath, {
    language: input.language,
    signal,
    timeoutMs: ENGINE_TIMEOUT_BASE_MS + ENGINE_TIMEOUT_MS_PER_AUDIO_SEC * audioSec,
    onSegment: (segment) => {
      logger.debug({ event: 'transcription.segment', start: segment.start, end: segment.end }, 'segment');
      const heard = Math.min(audioSec, Math.max(0, segment.end));
      progress.report({
        stage: `transcribing ${formatMediaClock(heard)} of ${total}`,
        progress: TRANSCRIBE_START + Math.floor((TRANSCRIBE_SPAN * heard) / audioSec),
      });
    },
  });
  await progress.flush();
  throwIfCancelled(signal);

  const version = await deps.engine.version();
  const quality = assessTranscriptQuality(segments, {
    language: input.language,
    engineName: deps.engine.name,
    engineLanguages: deps.engine.languages,
  });
  logger.info(
    {
      event: 'transcription.done',
      segments: segments.length,
      duration_ms: Math.round(performance.now() - started),
      media_duration_sec: mediaDurationSec,
      quality_score: quality.score,
    },
    'transcription done',
  );
  return {
    outputs: renderTranscriptOutputs(segments, mediaDurationSec),
    engine: `${deps.engine.name} ${version}`,
    quality,
    media_duration_sec: mediaDurationSec,
  };
}
