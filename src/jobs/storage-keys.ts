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
  /** Everything of a resumable upload session: its parts. */
  uploadPrefix: (uploadId: string) => `uploads/${uploadId}/`,
  /**
   * One fully received PATCH of a session, named by its offset and a random token of the request
   * that wrote it: two PATCHes racing for the same offset never write the same key.
   */
  uploadPart: (uploadId: string, offset: number, token: string) =>
    `uploads/${uploadId}/part-${offset}-${token}`,
  /** A readiness probe's object: written, read back and deleted by `/readyz`. */
  readinessProbe: (id: string) => `readiness/${id}/probe`,
  readinessPrefix: (id: string) => `readiness/${id}/`,
};
