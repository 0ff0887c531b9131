import { Counter, collectDefaultMetrics, Histogram, Registry } from 'prom-client';
import type { JobLabels, JobMetrics } from './job-metrics.js';

/** Seconds: from a fast page to a multi-hour recording. */
const JOB_SECONDS = [0.5, 1, 2, 5, 10, 30, 60, 120, 300, 600, 1800, 3600, 7200, 14_400];
const UNIT_SECONDS = [0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 30, 60, 120, 300];
const HTTP_SECONDS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];

/** Route label of requests no route matched: raw paths would give every scanner its own series. */
export const UNMATCHED_ROUTE = 'unmatched';

/**
 * One process's metrics, in a registry of its own (tests run several services in one process).
 * Counters and histograms count what this process saw; queue gauges are added by the caller and
 * read from Redis at scrape time, so nothing here is an in-memory average.
 */
export class PrometheusMetrics implements JobMetrics {
  readonly registry = new Registry();
  private readonly httpRequests: Counter<'method' | 'route' | 'status'>;
  private readonly httpDuration: Histogram<'method' | 'route' | 'status'>;
  private readonly jobsSubmitted: Counter<'queue' | 'job_type'>;
  private readonly jobsCompleted: Counter<'queue' | 'job_type' | 'engine'>;
  private readonly jobsFailed: Counter<'queue' | 'job_type' | 'engine' | 'error_code'>;
  private readonly jobsCancelled: Counter<'queue' | 'job_type'>;
  private readonly jobsRetried: Counter<'queue' | 'job_type' | 'engine' | 'error_code'>;
  private readonly jobDuration: Histogram<'queue' | 'job_type' | 'status'>;
  private readonly queueWaitSeconds: Histogram<'queue' | 'job_type'>;
  private readonly unitDuration: Histogram<'queue' | 'unit'>;

  constructor(role: string) {
    this.registry.setDefaultLabels({ role });
    collectDefaultMetrics({ register: this.registry });
    const registers = [this.registry];
    this.httpRequests = new Counter({
      name: 'http_requests_total',
      help: 'HTTP requests answered, by route template and status',
      labelNames: ['method', 'route', 'status'],
      registers,
    });
    this.httpDuration = new Histogram({
      name: 'http_request_duration_seconds',
      help: 'Time to answer an HTTP request, by route template and status',
      labelNames: ['method', 'route', 'status'],
      buckets: HTTP_SECONDS,
      registers,
    });
    this.jobsSubmitted = new Counter({
      name: 'jobs_submitted_total',
      help: 'Jobs accepted and put on their queue',
      labelNames: ['queue', 'job_type'],
      registers,
    });
    this.jobsCompleted = new Counter({
      name: 'jobs_completed_total',
      help: 'Jobs that ended COMPLETED',
      labelNames: ['queue', 'job_type', 'engine'],
      registers,
    });
    this.jobsFailed = new Counter({
      name: 'jobs_failed_total',
      help: 'Jobs that ended FAILED (dead-lettered), by error code',
      labelNames: ['queue', 'job_type', 'engine', 'error_code'],
      registers,
    });
    this.jobsCancelled = new Counter({
      name: 'jobs_cancelled_total',
      help: 'Jobs that ended CANCELLED',
      labelNames: ['queue', 'job_type'],
      registers,
    });
    this.jobsRetried = new Counter({
      name: 'jobs_retried_total',
      help: 'Failed attempts scheduled for another attempt, by error code',
      labelNames: ['queue', 'job_type', 'engine', 'error_code'],
      registers,
    });
    this.jobDuration = new Histogram({
      name: 'job_duration_seconds',
      help: 'Processing time of a finished attempt, by outcome',
      labelNames: ['queue', 'job_type', 'status'],
      buckets: JOB_SECONDS,
      registers,
    });
    this.queueWaitSeconds = new Histogram({
      name: 'job_queue_wait_seconds',
      help: 'Time from submission to the start of processing (started_at - created_at)',
      labelNames: ['queue', 'job_type'],
      buckets: JOB_SECONDS,
      registers,
    });
    this.unitDuration = new Histogram({
      name: 'job_unit_duration_seconds',
      help: 'Processing time of one OCR page or one transcription chunk',
      labelNames: ['queue', 'unit'],
      buckets: UNIT_SECONDS,
      registers,
    });
  }

  httpRequest(method: string, route: string, status: number, seconds: number): void {
    const labels = { method, route, status: String(status) };
    this.httpRequests.inc(labels);
    this.httpDuration.observe(labels, seconds);
  }

  submitted(labels: JobLabels): void {
    this.jobsSubmitted.inc({ queue: labels.queue, job_type: labels.job_type });
  }

  completed(labels: JobLabels, processingSec: number): void {
    this.jobsCompleted.inc({ queue: labels.queue, job_type: labels.job_type, engine: engineOf(labels) });
    this.jobDuration.observe(
      { queue: labels.queue, job_type: labels.job_type, status: 'COMPLETED' },
      processingSec,
    );
  }

  failed(labels: JobLabels, errorCode: string, processingSec: number | null): void {
    this.jobsFailed.inc({
      queue: labels.queue,
      job_type: labels.job_type,
      engine: engineOf(labels),
      error_code: errorCode,
    });
    if (processingSec !== null) {
      this.jobDuration.observe(
        { queue: labels.queue, job_type: labels.job_type, status: 'FAILED' },
        processingSec,
      );
    }
  }

  cancelled(labels: JobLabels): void {
    this.jobsCancelled.inc({ queue: labels.queue, job_type: labels.job_type });
  }

  retried(labels: JobLabels, errorCode: string): void {
    this.jobsRetried.inc({
      queue: labels.queue,
      job_type: labels.job_type,
      engine: engineOf(labels),
      error_code: errorCode,
    });
  }

  queueWait(labels: JobLabels, seconds: number): void {
    this.queueWaitSeconds.observe({ queue: labels.queue, job_type: labels.job_type }, Math.max(0, seconds));
  }

  unitProcessed(queue: string, unit: 'page' | 'chunk', seconds: number): void {
    this.unitDuration.observe({ queue, unit }, seconds);
  }
}

/** The engine family (`tesseract`, `gemini`, `pocketsphinx`), not its version: versions would multiply series. */
function engineOf(labels: JobLabels): string {
  const engine = labels.engine?.trim();
  if (!engine) return 'unknown';
  return engine.split(/[\s@/]/)[0]?.toLowerCase() || 'unknown';
}
