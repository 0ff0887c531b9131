import type { Readable } from 'node:stream';
import type { JobQuality, OcrOptions, OutputFormat, PagesBySource } from '../contract/index.js';
import type { ExtraWorkBudget } from '../engines/extra-work-budget.js';
import type { Logger } from '../observability/logger.js';

/** What a pipeline is told about the job it runs. Engines and pipelines never see Redis or HTTP. */
export interface PipelineInput {
  jobId: string;
  /** Local path of the uploaded file (the worker materialises it from storage). */
  inputPath: string;
  /** Canonical media type from content sniffing, e.g. `application/pdf`, `audio/wav`. */
  inputMime: string;
  /** Job language: tesseract list (`hin+eng`) for OCR, ISO code for speech. */
  language: string;
  contentSubtype: string;
  /** A scratch directory owned by this attempt; the worker removes it afterwards. */
  workDir: string;
  /** OCR: the options the job was submitted with (absent ones take the configured defaults). */
  ocr?: OcrOptions | undefined;
  /** True when no further attempt will follow a failure: state kept for a retry can go. */
  lastAttempt?: boolean | undefined;
  /** Per-job transcription settings sent with the job; unset ones come from the config. */
  transcription?: TranscriptionJobOptions;
}

/** Per-job transcription settings (multipart fields of POST /v1/jobs). */
export interface TranscriptionJobOptions {
  /** The speech engine the job named (`transcription_engine`); absent: the configured one. */
  engine?: string;
  /** Wished chunk length in seconds; cuts land at the nearest silence. */
  chunkSec?: number;
  /** Seconds of audio added on each side of a chunk. */
  chunkOverlapSec?: number;
  /** Chunks transcribed at once. */
  chunksInFlight?: number;
  /** Start each paragraph of the text output with its time. */
  txtTimestamps?: boolean;
}

export interface ProgressUpdate {
  /** Short words for people: "page 3 of 12", "transcribing 04:10 of 58:00". */
  stage: string;
  /** 0–100, never decreasing within an attempt. */
  progress: number;
  /** Facts learned on the way, saved on the job as soon as known. */
  facts?: { page_count?: number; media_duration_sec?: number };
  /**
   * The engine (its configured name: tesseract, gemini, openai …) the job is read with, sent with
   * the facts: the worker prices the job with it (COST_*) before any engine call.
   */
  engine?: string;
  /** Seconds left, estimated from the speed measured so far in this attempt. */
  eta_sec?: number;
}

export interface PipelineContext {
  signal: AbortSignal;
  logger: Logger;
  reportProgress: (update: ProgressUpdate) => Promise<void>;
  /** Time spent on one OCR page or transcription chunk, for the `job_unit_duration_seconds` histogram. */
  observeUnit?: (unit: 'page' | 'chunk', seconds: number) => void;
  /** The job's budget of extra engine calls (re-reads, re-runs); absent means unbounded (tests, bench). */
  extraWork?: ExtraWorkBudget;
}

export interface PipelineResult {
  /** Rendered outputs, keyed by format; the worker stores them (a stream for large files). */
  outputs: Partial<Record<OutputFormat, string | Buffer | Readable>>;
  engine: string;
  quality: JobQuality | null;
  page_count?: number;
  media_duration_sec?: number;
  /** OCR: how many pages came from the text layer, from OCR, or have no text. */
  pages_by_source?: PagesBySource;
}

export type Pipeline = (input: PipelineInput, context: PipelineContext) => Promise<PipelineResult>;
