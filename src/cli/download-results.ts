import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import type { DocTranscribeClient } from '../client/doc-transcribe-client.js';
import type { Job, OutputFormat } from '../contract/index.js';

export interface DownloadPlan {
  /** Formats asked for that the job has, each with where it is written (relative to `outDir`). */
  files: Array<{ format: OutputFormat; relativePath: string }>;
  /** Formats asked for that this job does not have (e.g. `srt` of a document). */
  unavailable: OutputFormat[];
}

/** Which of the `formats` asked for exist for this job, and the name each gets: `<stem>.<format>`. */
export function planDownloads(job: Job, formats: readonly OutputFormat[], stem: string): DownloadPlan {
  const available = formats.filter((format) => job.outputs[format] !== undefined);
  return {
    files: available.map((format) => ({ format, relativePath: `${stem}.${format}` })),
    unavailable: formats.filter((format) => job.outputs[format] === undefined),
  };
}

/** Writes each planned result under `outDir` (folders made as needed); returns the relative paths written. */
export async function downloadResults(
  client: DocTranscribeClient,
  job: Job,
  plan: DownloadPlan,
  outDir: string,
): Promise<string[]> {
  const written: string[] = [];
  for (const file of plan.files) {
    const destination = path.join(outDir, file.relativePath);
    await mkdir(path.dirname(destination), { recursive: true });
    await client.downloadResult(job.job_id, file.format, destination);
    written.push(file.relativePath);
  }
  return written;
}
