import type { OutputFormat } from '../contract/index.js';

/** Storage keys are derived from job ids only, never from names people upload. */
export const storageKeys = {
  jobPrefix: (jobId: string) => `jobs/${jobId}/`,
  input: (jobId: string) => `jobs/${jobId}/input`,
  output: (jobId: string, format: OutputFormat) => `jobs/${jobId}/output/result.${format}`,
};
