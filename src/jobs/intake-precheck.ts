import path from 'node:path';
import { type CostConfig, type EngineKind, engineNotOffered } from '../config/index.js';
import {
  AppError,
  inputByFilenameExt,
  type JobType,
  OCR_ENGINES,
  type PrecheckRequest,
  type PrecheckResult,
  SPEECH_ENGINES,
  SUPPORTED_INPUTS,
  type SupportedInput,
} from '../contract/index.js';
import type { UsageLeft } from './usage-quota.js';

/** The limits and speeds a precheck judges a file against (from the config). */
export interface IntakeLimits {
  maxUploadBytes: number;
  /** UPLOAD_MAX_BYTES_OCR / _TRANSCRIPTION, each at most maxUploadBytes. */
  maxUploadBytesByType?: Readonly<Record<JobType, number>>;
  ocrMaxPages: number;
  transcriptionMaxDurationSec: number;
  /** OCR_ENGINE: the engine of a document whose upload names none. */
  ocrEngine: string;
  /** OCR_ENGINE_BY_SUBTYPE: the default engine of some content subtypes. */
  ocrEngineBySubtype?: Readonly<Partial<Record<string, string>>>;
  /** TRANSCRIPTION_ENGINE: the engine of a recording whose upload names none. */
  speechEngine: string;
  /** The engines an upload may name (offeredEngines); absent: only ocrEngine and speechEngine. */
  enginesOffered?: Readonly<Record<EngineKind, readonly string[]>>;
  ocrPagesInFlight: number;
  chunksInFlight: number;
  activeJobsLimit: number;
  /** Engine prices and per-job thresholds (COST_*); absent: no estimate. */
  cost?: CostConfig;
}

/** What the system knows when it answers: the caller's active jobs, the queue lengths, what is left today. */
export interface IntakeState {
  activeJobs: number;
  queueWaiting: Record<JobType, number>;
  /** Pages and audio seconds the caller has left today (UTC); null or absent: no limit. */
  usageLeft?: UsageLeft;
}

/**
 * Seconds a page takes, per page in flight, by engine. tesseract is measured on the development
 * machine (docs/benchmarks.md: ~1.3 s a page per process); gemini is not measured here: a cautious
 * guess for a network round trip per page. An engine missing here is estimated as tesseract.
 */
const TESSERACT_SEC_PER_PAGE = 1.5;
const OCR_SEC_PER_PAGE: Readonly<Record<string, number>> = { tesseract: TESSERACT_SEC_PER_PAGE, gemini: 3 };
/**
 * Processing seconds per second of audio per chunk in flight, by engine. pocketsphinx is measured
 * (docs/benchmarks.md: RTF ~0.25 with the pipeline's overhead ~0.3); the others are cautious
 * guesses (whisper on CPU depends on the model; the cloud engines on the network).
 */
const POCKETSPHINX_RTF = 0.3;
const SPEECH_REAL_TIME_FACTOR: Readonly<Record<string, number>> = {
  pocketsphinx: POCKETSPHINX_RTF,
  whisper: 0.5,
  openai: 0.1,
  gemini: 0.1,
};
const LARGE_DOCUMENT_PAGES = 500;
const LONG_RECORDING_SEC = 3 * 3600;
const CLOUD_ENGINES = new Set(['gemini', 'openai']);

function detect(request: PrecheckRequest): SupportedInput | undefined {
  const byMime = request.mime ? SUPPORTED_INPUTS.find((input) => input.mime === request.mime) : undefined;
  if (byMime) return byMime;
  return inputByFilenameExt(path.extname(request.filename).slice(1));
}

/**
 * Judges a file before it is uploaded (PRS-027): the type it seems to be, whether it would be
 * refused and why (the same catalog codes the upload would get), and what to expect: processing
 * time, queue length, effort and whether a paid engine would read it. Advice only: the upload is
 * still judged by its content.
 */
export function precheckIntake(
  request: PrecheckRequest,
  limits: IntakeLimits,
  state: IntakeState,
): PrecheckResult {
  const blocks: PrecheckResult['blocks'] = [];
  const warnings: PrecheckResult['warnings'] = [];
  const input = detect(request);
  if (!input) {
    blocks.push({
      code: 'UNSUPPORTED_MEDIA_TYPE',
      message: `${request.filename} is not a document or recording the service reads.`,
    });
  } else if (request.job_type && request.job_type !== input.jobType) {
    blocks.push({
      code: 'JOB_TYPE_MISMATCH',
      message: `The file looks like ${input.jobType}, not ${request.job_type}.`,
    });
  }
  if (request.size_bytes === 0) blocks.push({ code: 'UPLOAD_EMPTY', message: 'The file is empty.' });
  const typeOfLimit = input?.jobType ?? request.job_type;
  const maxBytes = Math.min(
    limits.maxUploadBytes,
    (typeOfLimit && limits.maxUploadBytesByType?.[typeOfLimit]) || limits.maxUploadBytes,
  );
  if (request.size_bytes > maxBytes) {
    blocks.push({
      code: 'FILE_TOO_LARGE',
      message: `The file is larger than the limit of ${maxBytes} bytes${typeOfLimit ? ` for ${typeOfLimit}` : ''}.`,
    });
  }
  if (limits.activeJobsLimit > 0 && state.activeJobs >= limits.activeJobsLimit) {
    blocks.push({
      code: 'QUOTA_ACTIVE_JOBS',
      message: `You already have ${state.activeJobs} jobs queued or running (limit ${limits.activeJobsLimit}).`,
    });
  }

  let processingSec: number | null = null;
  let engine = '';
  const jobType = input?.jobType ?? request.job_type;
  const quotaBlock = dailyQuotaBlock(jobType, request, state.usageLeft);
  if (quotaBlock) blocks.push(quotaBlock);
  if (jobType === 'OCR' && request.engine !== undefined && !isOcrEngine(request.engine)) {
    refuseEngineOfOtherType('documents take an OCR engine', OCR_ENGINES);
  }
  if (jobType === 'TRANSCRIPTION' && request.engine !== undefined && !isSpeechEngine(request.engine)) {
    refuseEngineOfOtherType('recordings take a speech engine', SPEECH_ENGINES);
  }
  // The same rule as submit's `ocr_engine` / `transcription_engine`: the upload would be refused.
  const offered = limits.enginesOffered ?? { ocr: [limits.ocrEngine], speech: [limits.speechEngine] };
  const notOffered = jobType
    ? engineNotOffered(offered, jobType === 'OCR' ? 'ocr' : 'speech', request.engine)
    : null;
  if (notOffered) blocks.push({ code: 'ENGINE_NOT_OFFERED', message: `${notOffered}.` });
  if (jobType === 'OCR') {
    engine = ocrEngineOf(request, limits);
    if (request.page_count !== undefined) {
      if (request.page_count > limits.ocrMaxPages) {
        blocks.push({
          code: 'INPUT_TOO_COMPLEX',
          message: `${request.page_count} pages is more than the limit of ${limits.ocrMaxPages}.`,
        });
      } else if (request.page_count > LARGE_DOCUMENT_PAGES) {
        warnings.push({ code: 'LARGE_DOCUMENT', message: `${request.page_count} pages will take a while.` });
      }
      // An upper bound: pages with a real text layer take milliseconds.
      processingSec = Math.ceil(
        (request.page_count * (OCR_SEC_PER_PAGE[engine] ?? TESSERACT_SEC_PER_PAGE)) /
          Math.max(1, limits.ocrPagesInFlight),
      );
    }
  } else if (jobType === 'TRANSCRIPTION') {
    engine = request.engine ?? limits.speechEngine;
    if (request.duration_sec !== undefined) {
      if (request.duration_sec > limits.transcriptionMaxDurationSec) {
        blocks.push({
          code: 'MEDIA_TOO_LONG',
          message: `${Math.round(request.duration_sec)} s is longer than the limit of ${limits.transcriptionMaxDurationSec} s.`,
        });
      } else if (request.duration_sec > LONG_RECORDING_SEC) {
        warnings.push({ code: 'LONG_RECORDING', message: 'A recording this long will take a while.' });
      }
      processingSec = Math.ceil(
        (request.duration_sec * (SPEECH_REAL_TIME_FACTOR[engine] ?? POCKETSPHINX_RTF)) /
          Math.max(1, limits.chunksInFlight),
      );
    }
  }
  const cloud = CLOUD_ENGINES.has(engine);
  const cost = estimateCost(limits.cost, engine, request);
  // An engine not offered here will not run: nothing to warn about or price against the thresholds.
  if (cloud && !notOffered) {
    warnings.push({ code: 'PAID_ENGINE', message: `The ${engine} engine is a paid cloud service.` });
  }
  const costVerdict = notOffered ? null : judgeCost(limits.cost, engine, cost);
  if (costVerdict?.code === 'COST_LIMIT_EXCEEDED') blocks.push(costVerdict);
  if (costVerdict?.code === 'COST_HIGH') warnings.push(costVerdict);
  const effort =
    processingSec === null
      ? null
      : processingSec < 60
        ? 'light'
        : processingSec < 15 * 60
          ? 'medium'
          : 'heavy';
  return {
    decision: blocks.length > 0 ? 'block' : warnings.length > 0 ? 'warn' : 'allow',
    detected: input ? { job_type: input.jobType, mime: input.mime } : null,
    blocks,
    warnings,
    estimate: {
      processing_sec: processingSec,
      queue_waiting: jobType ? state.queueWaiting[jobType] : 0,
      effort,
      cost_band: cloud ? 'paid' : 'none',
      engine,
      cost,
    },
  };
}

const isOcrEngine = (name: string): boolean => (OCR_ENGINES as readonly string[]).includes(name);
const isSpeechEngine = (name: string): boolean => (SPEECH_ENGINES as readonly string[]).includes(name);

/** An engine of the other job type (or none at all) is a malformed question, as at submit. */
function refuseEngineOfOtherType(what: string, engines: readonly string[]): never {
  const message = `${what} (${engines.join(', ')})`;
  throw new AppError('VALIDATION_FAILED', `engine: ${message}`, {
    details: { errors: [{ field: 'engine', message }] },
  });
}

/** The engine the OCR pipeline would pick: the upload's own, else the subtype's, else OCR_ENGINE. */
function ocrEngineOf(request: PrecheckRequest, limits: IntakeLimits): string {
  return (
    request.engine ??
    (request.content_subtype ? limits.ocrEngineBySubtype?.[request.content_subtype] : undefined) ??
    limits.ocrEngine
  );
}

/** QUOTA_DAILY_PAGES / _AUDIO_MINUTES when nothing is left today, or less than the claimed size. */
function dailyQuotaBlock(
  jobType: JobType | undefined,
  request: PrecheckRequest,
  left: UsageLeft | undefined,
): PrecheckResult['blocks'][number] | null {
  if (jobType === 'OCR' && left?.pages != null) {
    if (left.pages === 0)
      return { code: 'QUOTA_DAILY_PAGES', message: 'You have no pages left today (UTC).' };
    if (request.page_count !== undefined && request.page_count > left.pages) {
      return {
        code: 'QUOTA_DAILY_PAGES',
        message: `${request.page_count} pages is more than the ${left.pages} you have left today (UTC).`,
      };
    }
  }
  if (jobType === 'TRANSCRIPTION' && left?.audioSec != null) {
    if (left.audioSec === 0) {
      return { code: 'QUOTA_DAILY_AUDIO_MINUTES', message: 'You have no audio minutes left today (UTC).' };
    }
    if (request.duration_sec !== undefined && Math.ceil(request.duration_sec) > left.audioSec) {
      return {
        code: 'QUOTA_DAILY_AUDIO_MINUTES',
        message: `${Math.round(request.duration_sec / 6) / 10} minutes is more than the ${Math.floor(left.audioSec / 6) / 10} you have left today (UTC).`,
      };
    }
  }
  return null;
}

/**
 * The COST_* thresholds applied to an estimate: above the block threshold COST_LIMIT_EXCEEDED,
 * above the warning one COST_HIGH, otherwise null. Used by the precheck on the sizes a client
 * claims and by the worker on the sizes it measured.
 */
export function judgeCost(
  cost: CostConfig | undefined,
  engine: string,
  estimate: number | null,
): { code: 'COST_LIMIT_EXCEEDED' | 'COST_HIGH'; message: string } | null {
  if (estimate === null || !cost) return null;
  const { blockPerJob, warnPerJob } = cost;
  if (blockPerJob > 0 && estimate > blockPerJob) {
    return {
      code: 'COST_LIMIT_EXCEEDED',
      message: `The job would cost about ${estimate.toFixed(2)} on ${engine}; the limit per job is ${blockPerJob}.`,
    };
  }
  if (warnPerJob > 0 && estimate > warnPerJob) {
    return {
      code: 'COST_HIGH',
      message: `The job would cost about ${estimate.toFixed(2)} on ${engine} (warning above ${warnPerJob}).`,
    };
  }
  return null;
}

/** Pages × the engine's page price, or minutes × its minute price; null without a price or a size. */
export function estimateCost(
  cost: CostConfig | undefined,
  engine: string,
  size: { page_count?: number | undefined; duration_sec?: number | undefined },
): number | null {
  const perPage = cost?.perPage[engine] ?? 0;
  const perMinute = cost?.perMinute[engine] ?? 0;
  if (perPage > 0 && size.page_count !== undefined) return round(perPage * size.page_count);
  if (perMinute > 0 && size.duration_sec !== undefined) return round((perMinute * size.duration_sec) / 60);
  return null;
}

const round = (value: number) => Math.round(value * 10_000) / 10_000;
