import { Counter, collectDefaultMetrics, Histogram, Registry } from 'prom-client';
import type { JobLabels, JobMetrics } from './job-metrics.js';

/** Seconds: from a fast page to a multi-hour recording. */
const JOB_SECONDS = [0.5, 1, 2, 5, 10, 30, 60, 120, 300, 600, 1800, 3600, 7200, 14_400];
const UNIT_SECONDS = [0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 30, 60, 120, 300];
const HTTP_SECONDS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];

/** Route label of requests no route matched: raw paths would give every scanner its own series. */
export const UNMATCHED_ROUTE = 'unmatched';

const HTTP_LABELS = ['method', 'route', 'status'] as const;
const JOB_LABELS = ['queue', 'job_type'] as const;
const ENGINE_LABELS = [...JOB_LABELS, 'engine'] as const;
const ERROR_LABELS = [...ENGINE_LABELS, 'error_code'] as const;

/**
 * One process's metrics, in a registry of its own (tests run several services in one process).
 * Counters and histograms count what this process saw; queue gauges are added by the caller and
 * read from Redis at scrape time, so nothing here is an in-memory average. docs/runbooks.md
 * ("Metrics") lists every series.
 */
export class PrometheusMetrics implements JobMetrics {
  readonly registry = new Registry();
  private readonly httpRequests = this.counter(
    'http_requests_total',
    'HTTP requests answered, by route template and status',
    HTTP_LABELS,
  );
  private readonly httpDuration = this.histogram(
    'http_request_duration_seconds',
    'Time to answer an HTTP request, by route template and status',
    HTTP_LABELS,
    HTTP_SECONDS,
  );
  private readonly jobsSubmitted = this.counter(
    'jobs_submitted_total',
    'Jobs accepted and put on their queue, by the engine they will run with',
    ENGINE_LABELS,
  );
  private readonly jobsCompleted = this.counter(
    'jobs_completed_total',
    'Jobs that ended COMPLETED',
    ENGINE_LABELS,
  );
  private readonly jobsFailed = this.counter(
    'jobs_failed_total',
    'Jobs that ended FAILED (dead-lettered), by error code',
    ERROR_LABELS,
  );
  private readonly jobsCancelled = this.counter(
    'jobs_cancelled_total',
    'Jobs that ended CANCELLED',
    ENGINE_LABELS,
  );
  private readonly jobsRetried = this.counter(
    'jobs_retried_total',
    'Failed attempts scheduled for another attempt, by error code',
    ERROR_LABELS,
  );
  private readonly jobDuration = this.histogram(
    'job_duration_seconds',
    'Processing time of a finished attempt, by outcome',
    [...JOB_LABELS, 'status'],
    JOB_SECONDS,
  );
  private readonly queueWaitSeconds = this.histogram(
    'job_queue_wait_seconds',
    'Time from submission to the start of processing (started_at - created_at)',
    JOB_LABELS,
    JOB_SECONDS,
  );
  private readonly unitDuration = this.histogram(
    'job_unit_duration_seconds',
    'Processing time of one OCR page or one transcription chunk',
    ['queue', 'unit'],
    UNIT_SECONDS,
  );

  constructor(role: string) {
    this.registry.setDefaultLabels({ role });
    collectDefaultMetrics({ register: this.registry });
  }

  httpRequest(method: string, route: string, status: number, seconds: number): void {
    const labels = { method, route, status: String(status) };
    this.httpRequests.inc(labels);
    this.httpDuration.observe(labels, seconds);
  }

  submitted(labels: JobLabels): void {
    this.jobsSubmitted.inc(engineLabels(labels));
  }

  completed(labels: JobLabels, processingSec: number): void {
    this.jobsCompleted.inc(engineLabels(labels));
    this.jobDuration.observe({ ...jobLabels(labels), status: 'COMPLETED' }, processingSec);
  }

  failed(labels: JobLabels, errorCode: string, processingSec: number | null): void {
    this.jobsFailed.inc({ ...engineLabels(labels), error_code: errorCode });
    if (processingSec !== null)
      this.jobDuration.observe({ ...jobLabels(labels), status: 'FAILED' }, processingSec);
  }

  cancelled(labels: JobLabels): void {
    this.jobsCancelled.inc(engineLabels(labels));
  }

  retried(labels: JobLabels, errorCode: string): void {
    this.jobsRetried.inc({ ...engineLabels(labels), error_code: errorCode });
  }

  queueWait(labels: JobLabels, seconds: number): void {
    this.queueWaitSeconds.observe(jobLabels(labels), Math.max(0, seconds));
  }

  unitProcessed(queue: string, unit: 'page' | 'chunk', seconds: number): void {
    this.unitDuration.observe({ queue, unit }, seconds);
  }

  private counter<L extends string>(name: string, help: string, labelNames: readonly L[]): Counter<L> {
    return new Counter({ name, help, labelNames, registers: [this.registry] });
  }

  private histogram<L extends string>(
    name: string,
    help: string,
    labelNames: readonly L[],
    buckets: number[],
  ): Histogram<L> {
    return new Histogram({ name, help, labelNames, buckets, registers: [this.registry] });
  }
}

function jobLabels(labels: JobLabels): { queue: string; job_type: string } {
  return { queue: labels.queue, job_type: labels.job_type };
}

function engineLabels(labels: JobLabels): { queue: string; job_type: string; engine: string } {
  return { ...jobLabels(labels), engine: engineOf(labels) };
}

/** The engine family (`tesseract`, `gemini`, `pocketsphinx`), not its version: versions would multiply series. */
function engineOf(labels: JobLabels): string {
  const engine = labels.engine?.trim();
  if (!engine) return 'unknown';
  return engine.split(/[\s@/]/)[0]?.toLowerCase() || 'unknown';
}
