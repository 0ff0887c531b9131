import type { OutputFormat } from '../contract/index.js';

/** Storage keys are derived from job ids only, never from names people upload. */
export const storageKeys = {
  jobPrefix: (jobId: string) => `jobs/${jobId}/`,
  input: (jobId: string) => `jobs/${jobId}/input`,
  /**
   * A result, under the claim (attempt) that wrote it: two runs of the same job never write the
   * same key, and the COMPLETED transition publishes which claim's outputs are the job's. Jobs
   * completed before claims existed have theirs at `jobs/<id>/output/result.<format>`.
   */
  output: (jobId: string, format: OutputFormat, claimToken?: string | null) =>
    claimToken
      ? `jobs/${jobId}/output/${claimToken}/result.${format}`
      : `jobs/${jobId}/output/result.${format}`,
  /** Every output of a job (all claims), or of one claim. */
  outputPrefix: (jobId: string, claimToken?: string) =>
    claimToken ? `jobs/${jobId}/output/${claimToken}/` : `jobs/${jobId}/output/`,
  /** A readiness probe's object: written, read back and deleted by `/readyz`. */
  readinessProbe: (id: string) => `readiness/${id}/probe`,
  readinessPrefix: (id: string) => `readiness/${id}/`,
};
