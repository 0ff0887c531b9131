import { ApiError, failureOf, isRetryableFailure } from '../api/api-failure.js';
import type { SubmittedJob } from '../api/contract.js';
import { UploadAbortedError, type UploadOptions } from '../api/upload-file.js';
import { MAX_UPLOAD_TRIES, type UploadAction, type UploadItem, uploadRetryDelayMs } from './upload-queue.js';

export interface RunUploadDeps {
  url: string;
  upload(options: UploadOptions): Promise<SubmittedJob>;
  dispatch(action: UploadAction): void;
  sleep(ms: number): Promise<void>;
  signal?: AbortSignal;
  /** Read at every try, so a token renewed meanwhile is the one sent. */
  authorization?: () => string | null;
}

/**
 * Sends one file, trying again by itself (same Idempotency-Key, growing pauses) while the failure
 * is one that may pass, at most MAX_UPLOAD_TRIES times in all; then it waits for the person.
 */
export async function runUpload(item: UploadItem, deps: RunUploadDeps): Promise<SubmittedJob | null> {
  const jobType = item.detected?.input.jobType;
  const fields: Record<string, string> = { content_subtype: item.contentSubtype, language: item.language };
  if (jobType) fields.job_type = jobType;
  if (jobType === 'OCR' && item.ocrEngine !== 'default') fields.ocr_engine = item.ocrEngine;
  if (jobType === 'TRANSCRIPTION' && item.speechEngine !== 'default') {
    fields.transcription_engine = item.speechEngine;
  }
  for (let tries = item.tries; ; ) {
    deps.dispatch({ type: 'item/started', key: item.key });
    tries += 1;
    try {
      const submitted = await deps.upload({
        url: deps.url,
        file: item.file,
        filename: item.file.name,
        fields,
        idempotencyKey: item.idempotencyKey,
        authorization: deps.authorization?.() ?? null,
        onProgress: (sent) => deps.dispatch({ type: 'item/progress', key: item.key, sent }),
        ...(deps.signal ? { signal: deps.signal } : {}),
      });
      deps.dispatch({
        type: 'item/done',
        key: item.key,
        jobId: submitted.job.job_id,
        reused: submitted.reused,
      });
      return submitted;
    } catch (error) {
      if (error instanceof UploadAbortedError) {
        deps.dispatch({ type: 'item/failed', key: item.key, failure: { kind: 'network' } });
        return null;
      }
      const failure = error instanceof ApiError ? error.failure : failureOf(error);
      // Counted per press of "Upload": a manual retry gets the same number of automatic tries again.
      if (!isRetryableFailure(failure) || tries - item.tries >= MAX_UPLOAD_TRIES) {
        deps.dispatch({ type: 'item/failed', key: item.key, failure });
        return null;
      }
      deps.dispatch({ type: 'item/waiting', key: item.key, failure });
      await deps.sleep(uploadRetryDelayMs(tries - item.tries));
    }
  }
}
