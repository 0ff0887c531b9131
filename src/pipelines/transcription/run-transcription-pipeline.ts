import { createHash } from 'node:crypto';
import { mkdir, rm } from 'node:fs/promises';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { AppError, isAppError } from '../../contract/index.js';
import type { Segment, SpeechEngine } from '../../engines/speech/speech-engine.js';
import { decodeToWav } from '../../media/ffmpeg/decode-to-wav.js';
import { measureWavEnergy } from '../../media/ffmpeg/measure-wav-energy.js';
import { probeMedia } from '../../media/ffmpeg/probe-media.js';
import { writeWavSlice } from '../../media/ffmpeg/write-wav-slice.js';
import { formatMediaClock } from '../../media/format-media-clock.js';
import { mediaTooLong } from '../../media/media-too-long.js';
import { errorFields } from '../../observability/logger.js';
import type { ObjectStorage } from '../../storage/object-storage.js';
import type { Pipeline, PipelineContext, PipelineInput, PipelineResult } from '../pipeline.js';
import { stopOnCancel } from '../stop-on-cancel.js';
import { assessTranscriptQuality, LOW_CONFIDENCE_SCORE, scoreSegment } from './assess-transcript-quality.js';
import { ChunkCheckpoints, type ChunkResult } from './chunk-checkpoints.js';
import { mergeChunkSegments } from './merge-chunk-segments.js';
import { type PlannedChunk, planChunks, silencePower, soundCharacter, soundShare } from './plan-chunks.js';
import { ProgressReporter } from './progress-reporter.js';
import { renderTranscriptOutputs } from './render-transcript-outputs.js';
import { collapseRepetition, hasRunawayRepetition } from './repetition-guard.js';
import { tokensOf } from './transcript-segment.js';

export interface ChunkingSettings {
  /** Wished chunk length; cuts land at the quietest moment near it. */
  targetSec: number;
  /** Audio added on each side of a chunk; what is heard twice is de-duplicated at the seam. */
  overlapSec: number;
  /** Chunks transcribed at once. */
  inFlight: number;
}

export interface TranscriptionPipelineDeps {
  /** The engine of a job that names none (TRANSCRIPTION_ENGINE). */
  engine: SpeechEngine;
  /**
   * The engine a job names (`transcription_engine`), created on first use; throws a catalog error
   * for one this worker does not have. Absent: a job may only name `engine`.
   */
  engineFor?: (name: string) => SpeechEngine;
  /** Longest recording accepted, measured by ffprobe/ffmpeg here, never taken from the client. */
  maxDurationSec: number;
  chunking?: ChunkingSettings;
  /** A file decoding to much less than its header says: fail with MEDIA_TRUNCATED, or finish with a warning. */
  onTruncated?: 'fail' | 'warn';
  /** A word sequence repeated back to back more than this many times is a runaway loop. */
  repetitionMaxRepeats?: number;
  /** Where finished chunks are checkpointed so a retried attempt, on any worker, skips them; none: no checkpoints. */
  checkpointStorage?: ObjectStorage;
}

export const DEFAULT_CHUNKING: ChunkingSettings = { targetSec: 60, overlapSec: 1, inFlight: 2 };
const DEFAULT_MAX_REPEATS = 4;

/** Progress bands: decoding 2–5 %, recognition 6–99 %; the worker sets 100 on completion. */
const DECODE_START = 2;
const TRANSCRIBE_START = 6;
const TRANSCRIBE_SPAN = 93;
/** Measured real-time factor is 0.14–0.4; three times real time means the engine is stuck. */
const ENGINE_TIMEOUT_BASE_MS = 60_000;
const ENGINE_TIMEOUT_MS_PER_AUDIO_SEC = 3_000;
/** Codec padding can make decoded audio a little longer than the container says. */
const DECODED_LENGTH_TOLERANCE_SEC = 0.5;
/** A chunk this loud for this share of its time had speech in it. */
const SPEECH_SHARE_FOR_EMPTY = 0.2;
/**
 * Noise or music suspected: sound in at least half of the chunk, loudness that hardly moves (speech
 * moves ~8 dB with its syllables, noise, tones and sustained music ≤ 2 dB) and fewer than one word
 * recognised per second of sound (speech gives 2–3).
 */
const NOISE_MIN_SOUND_SHARE = 0.5;
const NOISE_MAX_SPREAD_DB = 4;
const NOISE_MAX_WORDS_PER_SOUND_SEC = 1;

const roundMs = (seconds: number) => Math.round(seconds * 1000) / 1000;

function throwIfCancelled(signal: AbortSignal): void {
  if (signal.aborted) throw new AppError('JOB_CANCELLED');
}

/**
 * Recording → probe → one decode to 16 kHz mono WAV → chunks cut at silences → speech engine
 * (several chunks in flight, each checkpointed) → repetition guard → seams merged → text, SRT,
 * WebVTT and JSON with a quality assessment.
 */
export function createTranscriptionPipeline(deps: TranscriptionPipelineDeps): Pipeline {
  return stopOnCancel((input, context) => transcribeRecording(deps, input, context));
}

function settingsFor(deps: TranscriptionPipelineDeps, input: PipelineInput): ChunkingSettings {
  const base = deps.chunking ?? DEFAULT_CHUNKING;
  const job = input.transcription ?? {};
  return {
    targetSec: job.chunkSec ?? base.targetSec,
    overlapSec: job.chunkOverlapSec ?? base.overlapSec,
    inFlight: Math.max(1, job.chunksInFlight ?? base.inFlight),
  };
}

/** The job's own engine when it names one, else the default; everything after uses only this one. */
function engineOfJob(deps: TranscriptionPipelineDeps, input: PipelineInput): SpeechEngine {
  const asked = input.transcription?.engine;
  if (asked === undefined || asked === deps.engine.name) return deps.engine;
  if (!deps.engineFor) {
    throw new AppError('ENGINE_NOT_CONFIGURED', `This worker has no ${asked} speech engine.`);
  }
  return deps.engineFor(asked);
}

async function transcribeRecording(
  sharedDeps: TranscriptionPipelineDeps,
  input: PipelineInput,
  context: PipelineContext,
): Promise<PipelineResult> {
  const { signal, logger } = context;
  const started = performance.now();
  throwIfCancelled(signal);
  // Chunk limits (maxChunkSec), the recorded engine and the checkpoint fingerprint follow the job's engine.
  const deps: TranscriptionPipelineDeps = { ...sharedDeps, engine: engineOfJob(sharedDeps, input) };
  await deps.engine.checkReady?.();

  const probe = await probeMedia(input.inputPath, { signal });
  if (probe.durationSec !== null && probe.durationSec > deps.maxDurationSec) {
    throw mediaTooLong(probe.durationSec, deps.maxDurationSec);
  }

  const progress = new ProgressReporter(context.reportProgress, (error) => {
    // A job being stopped (cancel, a quota or cost refusal of its measured size) says why elsewhere.
    if (signal.aborted) return;
    logger.warn({ event: 'transcription.progress_failed', ...errorFields(error) }, 'progress not saved');
  });
  progress.report({
    stage: 'decoding audio',
    progress: DECODE_START,
    engine: deps.engine.name,
    ...(probe.durationSec === null ? {} : { facts: { media_duration_sec: roundMs(probe.durationSec) } }),
  });
  await progress.flush();
  throwIfCancelled(signal);

  const audioPath = path.join(input.workDir, 'audio.wav');
  const chunkDir = path.join(input.workDir, 'chunks');
  const checkpoints = deps.checkpointStorage
    ? new ChunkCheckpoints(deps.checkpointStorage, input.jobId)
    : null;
  try {
    const result = await decodeAndTranscribe(deps, input, context, {
      probe,
      progress,
      audioPath,
      chunkDir,
      checkpoints,
    });
    await checkpoints?.remove();
    logger.info(
      {
        event: 'transcription.done',
        segments: result.segmentCount,
        duration_ms: Math.round(performance.now() - started),
        media_duration_sec: result.pipeline.media_duration_sec,
        quality_score: result.pipeline.quality?.score ?? null,
      },
      'transcription done',
    );
    return result.pipeline;
  } catch (error) {
    // A retry may reuse finished chunks; a job that will not be retried leaves nothing behind.
    const retryable = isAppError(error) ? error.retryable : true;
    if (!retryable || signal.aborted) await checkpoints?.remove();
    throw error;
  } finally {
    await rm(chunkDir, { recursive: true, force: true });
    await rm(audioPath, { force: true });
  }
}

async function decodeAndTranscribe(
  deps: TranscriptionPipelineDeps,
  input: PipelineInput,
  context: PipelineContext,
  state: {
    probe: Awaited<ReturnType<typeof probeMedia>>;
    progress: ProgressReporter;
    audioPath: string;
    chunkDir: string;
    checkpoints: ChunkCheckpoints | null;
  },
): Promise<{ pipeline: PipelineResult; segmentCount: number }> {
  const { signal, logger } = context;
  const { probe, progress } = state;
  const decodeStarted = performance.now();
  const decodeCeilingSec = probe.durationSec ?? deps.maxDurationSec;
  const audio = await decodeToWav(input.inputPath, state.audioPath, {
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
            (TRANSCRIBE_START - 1 - DECODE_START) * Math.min(1, decodedSec / Math.max(decodeCeilingSec, 1)),
          ),
      }),
  });
  // Catches files whose header hides their length; decoding stopped one second past the limit.
  if (audio.decodedDurationSec > deps.maxDurationSec + DECODED_LENGTH_TOLERANCE_SEC) {
    throw mediaTooLong(audio.decodedDurationSec, deps.maxDurationSec);
  }
  const hints: string[] = [];
  if (audio.truncatedSuspected) {
    const detail =
      `The file decodes to ${formatMediaClock(audio.decodedDurationSec)} of audio although its header ` +
      `says ${formatMediaClock(audio.expectedDurationSec ?? 0)}: it was probably cut off during upload or copying.`;
    if ((deps.onTruncated ?? 'fail') === 'fail') {
      throw new AppError('MEDIA_TRUNCATED', detail, {
        details: {
          decoded_duration_sec: roundMs(audio.decodedDurationSec),
          probed_duration_sec: audio.expectedDurationSec,
        },
      });
    }
    hints.push(`${detail} The transcript covers only what is there.`);
  }
  // Measured, never from a header: what the engine actually hears.
  const mediaDurationSec = roundMs(audio.decodedDurationSec);
  const energy = await measureWavEnergy(audio.wavPath, { signal });
  const settings = settingsFor(deps, input);
  const chunks = planChunks(energy, {
    targetSec: settings.targetSec,
    overlapSec: settings.overlapSec,
    ...(deps.engine.maxChunkSec === undefined ? {} : { maxSec: deps.engine.maxChunkSec }),
  });
  context.extraWork?.setUnits(chunks.length);
  logger.info(
    {
      event: 'transcription.decoded',
      media_duration_sec: mediaDurationSec,
      probed_duration_sec: probe.durationSec,
      truncated_suspected: audio.truncatedSuspected,
      audio_codec: probe.audioCodec,
      format_name: probe.formatName,
      chunks: chunks.length,
      chunks_cut_in_speech: chunks.filter((chunk) => !chunk.cutAtSilence).length,
      duration_ms: Math.round(performance.now() - decodeStarted),
    },
    'audio decoded',
  );

  const version = await deps.engine.version();
  const engineLabel = `${deps.engine.name} ${version}`;
  const maxRepeats = deps.repetitionMaxRepeats ?? DEFAULT_MAX_REPEATS;
  const fingerprint = createHash('sha256')
    .update(
      JSON.stringify({
        audio: energy.sha256,
        chunks,
        engine: engineLabel,
        language: input.language,
        subtype: input.contentSubtype,
        maxRepeats,
      }),
    )
    .digest('hex');
  const finished =
    (await state.checkpoints?.open(fingerprint, chunks.length)) ?? new Map<number, ChunkResult>();
  if (finished.size > 0) {
    logger.info(
      { event: 'transcription.resumed', chunks_done: finished.size, chunks: chunks.length },
      'resuming from checkpointed chunks',
    );
  }
  await mkdir(state.chunkDir, { recursive: true });

  const total = formatMediaClock(mediaDurationSec);
  const ownedSec = (chunk: PlannedChunk) => chunk.end - chunk.start;
  let doneSec = 0;
  for (const chunk of chunks) if (finished.has(chunk.index)) doneSec += ownedSec(chunk);
  const heardInFlight = new Map<number, number>();
  let measuredSec = 0;
  const transcribeStarted = performance.now();
  const reportTranscribing = () => {
    const heard = Math.min(
      mediaDurationSec,
      doneSec + [...heardInFlight.values()].reduce((a, b) => a + b, 0),
    );
    const elapsedSec = (performance.now() - transcribeStarted) / 1000;
    // Speed measured on this attempt's own chunks; resumed ones cost nothing and would flatter it.
    const eta =
      measuredSec > 0 && elapsedSec > 0 ? (mediaDurationSec - heard) / (measuredSec / elapsedSec) : null;
    progress.report({
      stage: `transcribing ${formatMediaClock(heard)} of ${total}${eta === null ? '' : `, about ${formatMediaClock(eta)} left`}`,
      progress: TRANSCRIBE_START + Math.floor((TRANSCRIBE_SPAN * heard) / Math.max(mediaDurationSec, 0.001)),
      ...(eta === null ? {} : { eta_sec: Math.round(eta) }),
    });
  };
  progress.report({
    stage: `transcribing ${formatMediaClock(doneSec)} of ${total}`,
    progress: TRANSCRIBE_START + Math.floor((TRANSCRIBE_SPAN * doneSec) / Math.max(mediaDurationSec, 0.001)),
    facts: { media_duration_sec: mediaDurationSec },
    engine: deps.engine.name,
  });

  const transcribeChunk = async (chunk: PlannedChunk, chunkSignal: AbortSignal): Promise<ChunkResult> => {
    const chunkStarted = performance.now();
    const wav = path.join(state.chunkDir, `chunk-${String(chunk.index).padStart(5, '0')}.wav`);
    const audioSec = chunk.audioEnd - chunk.audioStart;
    try {
      await writeWavSlice(audio.wavPath, wav, chunk.audioStart, chunk.audioEnd, { signal: chunkSignal });
      const run = async (strict: boolean): Promise<Segment[]> => {
        const raw = await deps.engine.transcribe(wav, {
          language: input.language,
          contentSubtype: input.contentSubtype,
          signal: chunkSignal,
          strict,
          timeoutMs: ENGINE_TIMEOUT_BASE_MS + ENGINE_TIMEOUT_MS_PER_AUDIO_SEC * audioSec,
          onSegment: (segment) => {
            logger.debug(
              { event: 'transcription.segment', chunk: chunk.index, start: segment.start, end: segment.end },
              'segment',
            );
            const heard = Math.min(
              ownedSec(chunk),
              Math.max(0, segment.end + chunk.audioStart - chunk.start),
            );
            heardInFlight.set(chunk.index, heard);
            reportTranscribing();
          },
        });
        return raw.map((segment) => shiftSegment(segment, chunk.audioStart, chunk.audioEnd));
      };
      let segments = await run(false);
      let rerun = false;
      let collapsed = 0;
      const rerunAllowed = context.extraWork?.allows?.('transcription_strict_rerun') !== false;
      if (rerunAllowed && hasRunawayRepetition(segments, maxRepeats)) {
        logger.warn(
          { event: 'transcription.chunk.repetition', chunk: chunk.index },
          'runaway repetition; re-running chunk',
        );
        rerun = true;
        await context.extraWork?.spend('transcription_strict_rerun');
        segments = await run(true);
      }
      const guarded = collapseRepetition(segments, maxRepeats);
      collapsed = guarded.collapsed;
      if (collapsed > 0) {
        logger.warn(
          { event: 'transcription.chunk.repetition_collapsed', chunk: chunk.index, loops: collapsed },
          'repetition loop collapsed',
        );
      }
      const result: ChunkResult = { index: chunk.index, segments: guarded.segments, rerun, collapsed };
      await state.checkpoints?.save(result);
      context.observeUnit?.('chunk', (performance.now() - chunkStarted) / 1000);
      logger.info(
        {
          event: 'transcription.chunk.done',
          chunk: chunk.index,
          chunks: chunks.length,
          audio_start_sec: roundMs(chunk.audioStart),
          audio_end_sec: roundMs(chunk.audioEnd),
          segments: result.segments.length,
          rerun,
          duration_ms: Math.round(performance.now() - chunkStarted),
        },
        'chunk transcribed',
      );
      return result;
    } finally {
      await rm(wav, { force: true });
    }
  };

  const pending = chunks.filter((chunk) => !finished.has(chunk.index));
  for (const chunk of chunks) {
    if (finished.has(chunk.index)) {
      logger.info({ event: 'transcription.chunk.skipped', chunk: chunk.index }, 'chunk already done');
    }
  }
  await runPool(pending, settings.inFlight, signal, async (chunk, chunkSignal) => {
    const result = await transcribeChunk(chunk, chunkSignal);
    finished.set(chunk.index, result);
    heardInFlight.delete(chunk.index);
    doneSec += ownedSec(chunk);
    measuredSec += ownedSec(chunk);
    reportTranscribing();
  });
  await progress.flush();
  throwIfCancelled(signal);

  const merged = mergeChunkSegments(
    chunks.map((chunk) => ({ chunk, segments: finished.get(chunk.index)?.segments ?? [] })),
  );
  const threshold = silencePower(energy.framePower);
  const noisyChunks = chunks.filter((chunk) => {
    const sound = soundCharacter(energy, chunk.start, chunk.end, threshold);
    const words = merged
      .filter((segment) => segment.chunk === chunk.index)
      .reduce((sum, segment) => sum + tokensOf(segment.text).length, 0);
    return (
      sound.soundShare >= NOISE_MIN_SOUND_SHARE &&
      sound.spreadDb !== null &&
      sound.spreadDb <= NOISE_MAX_SPREAD_DB &&
      words < NOISE_MAX_WORDS_PER_SOUND_SEC * sound.soundSec
    );
  });
  if (noisyChunks.length > 0) {
    logger.info(
      { event: 'transcription.noise_suspected', chunks: noisyChunks.map((chunk) => chunk.index) },
      'steady sound with few words: noise or music suspected',
    );
  }
  const emptyChunks = chunks.filter(
    (chunk) =>
      !noisyChunks.includes(chunk) &&
      !merged.some((segment) => segment.chunk === chunk.index) &&
      soundShare(energy, chunk.start, chunk.end, threshold) >= SPEECH_SHARE_FOR_EMPTY,
  );
  const quality = assessTranscriptQuality(merged, {
    language: input.language,
    engineName: deps.engine.name,
    engineLanguages: deps.engine.languages,
    emptyChunks,
    noisyChunks,
    hints,
  });
  const scores = merged.map((segment) => scoreSegment(segment, input.language));
  return {
    segmentCount: merged.length,
    pipeline: {
      outputs: renderTranscriptOutputs(merged, {
        mediaDurationSec,
        txtTimestamps: input.transcription?.txtTimestamps ?? false,
        engine: engineLabel,
        language: input.language,
        scores,
        lowConfidenceScore: LOW_CONFIDENCE_SCORE,
      }),
      engine: engineLabel,
      quality,
      media_duration_sec: mediaDurationSec,
    },
  };
}

/** Engine times are relative to the chunk's audio: moved onto the recording's clock and kept inside the chunk. */
function shiftSegment(segment: Segment, offset: number, limit: number): Segment {
  const clamp = (t: number) => Math.min(limit, Math.max(offset, t + offset));
  const shifted: Segment = { ...segment, start: clamp(segment.start), end: clamp(segment.end) };
  if (segment.words) {
    shifted.words = segment.words.map((word) => ({
      ...word,
      start: clamp(word.start),
      end: clamp(word.end),
    }));
  }
  return shifted;
}

/**
 * Runs `work` over `items` with at most `limit` at once. The first failure aborts the others
 * (their engine processes are killed) and is the one reported.
 */
async function runPool<T>(
  items: readonly T[],
  limit: number,
  signal: AbortSignal,
  work: (item: T, signal: AbortSignal) => Promise<void>,
): Promise<void> {
  const controller = new AbortController();
  const onAbort = () => controller.abort(signal.reason);
  signal.addEventListener('abort', onAbort, { once: true });
  let next = 0;
  let failure: { error: unknown } | null = null;
  const lane = async () => {
    while (failure === null && !controller.signal.aborted && next < items.length) {
      const item = items[next++] as T;
      try {
        await work(item, controller.signal);
      } catch (error) {
        failure ??= { error };
        controller.abort(error);
      }
    }
  };
  try {
    await Promise.all(Array.from({ length: Math.min(limit, items.length) }, lane));
  } finally {
    signal.removeEventListener('abort', onAbort);
  }
  if (failure) throw (failure as { error: unknown }).error;
  throwIfCancelled(signal);
}
