/** A job's labels on every job series: its queue, type and (once known) engine. */
export interface JobLabels {
  queue: string;
  job_type: string;
  engine?: string | null;
}

/**
 * Where job outcomes are counted. Passed into the job service and the job processor, which decide
 * outcomes, so neither knows the metrics library; `NO_JOB_METRICS` where nobody scrapes.
 */
export interface JobMetrics {
  submitted(labels: JobLabels): void;
  completed(labels: JobLabels, processingSec: number): void;
  /** `processingSec` null when no attempt of this process ran it (BullMQ gave up on a stalled job). */
  failed(labels: JobLabels, errorCode: string, processingSec: number | null): void;
  cancelled(labels: JobLabels): void;
  /** A failed attempt the retry policy sends round again. */
  retried(labels: JobLabels, errorCode: string): void;
  /** Seconds between submission and the attempt's start (`started_at − created_at`). */
  queueWait(labels: JobLabels, seconds: number): void;
  /** One OCR page or transcription chunk, processed by the pipeline. */
  unitProcessed(queue: string, unit: 'page' | 'chunk', seconds: number): void;
}

export const NO_JOB_METRICS: JobMetrics = {
  submitted: () => undefined,
  completed: () => undefined,
  failed: () => undefined,
  cancelled: () => undefined,
  retried: () => undefined,
  queueWait: () => undefined,
  unitProcessed: () => undefined,
};
