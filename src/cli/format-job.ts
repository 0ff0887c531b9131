import type { Job } from '../contract/index.js';

/** One history row: id, status, progress, type, file name, then the stage or the error. */
export function formatJobLine(job: Job): string {
  const tail = job.error_code ? `${job.error_code}: ${job.error_message ?? ''}` : job.stage;
  return [
    job.job_id,
    job.status.padEnd(10),
    `${String(job.progress).padStart(3)}%`,
    job.job_type.padEnd(13),
    job.input_filename,
    tail,
  ]
    .join('  ')
    .trimEnd();
}

/** `status`: the fields people look at, one per line. */
export function formatJobDetails(job: Job): string {
  const rows: Array<[string, string | number | null | undefined]> = [
    ['job_id', job.job_id],
    ['status', job.status],
    ['stage', job.stage],
    ['progress', `${job.progress}%`],
    ['job_type', `${job.job_type} (${job.content_subtype})`],
    ['file', `${job.input_filename} (${job.input_mime}, ${job.input_size_bytes} bytes)`],
    ['language', job.language],
    ['engine', job.engine],
    ['queue_position', job.queue_position],
    ['eta_sec', job.eta_sec],
    ['page_count', job.page_count],
    ['media_duration_sec', job.media_duration_sec],
    ['outputs', Object.keys(job.outputs).join(', ') || null],
    ['error', job.error_code ? `${job.error_code}: ${job.error_message ?? ''}` : null],
    ['retry_of_job_id', job.retry_of_job_id],
    ['created_at', job.created_at],
    ['finished_at', job.finished_at],
  ];
  return rows
    .filter(([, value]) => value !== null && value !== undefined)
    .map(([name, value]) => `${name.padEnd(18)} ${value}`)
    .join('\n');
}
