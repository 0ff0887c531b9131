import type { OutputFormat } from '../contract/index.js';

/** Storage keys are derived from job ids only, never from names people upload. */
export const storageKeys = {
  jobPrefix: (jobId: string) => `jobs/${jobId}/`,
  input: (jobId: string) => `jobs/${jobId}/input`,
  output: (jobId: string, format: OutputFormat) => `jobs/${jobId}/output/result.${format}`,
  /** A readiness probe's object: written, read back and deleted by `/readyz`. */
  readinessProbe: (id: string) => `readiness/${id}/probe`,
  readinessPrefix: (id: string) => `readiness/${id}/`,
};
