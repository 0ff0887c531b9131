import type { FastifyBaseLogger } from 'fastify';
import { AppError, ERROR_CATALOG } from '../contract/index.js';
import { JOB_ID_PATTERN } from '../jobs/new-job-id.js';
import type { UploadSession, UploadSessionStore } from '../jobs/upload-sessions.js';
import type { ObjectStorage } from '../storage/object-storage.js';
import type { UploadLimits } from './check-upload.js';
import { concatenateParts, type ReceivedUpload, storeUploadStream } from './receive-upload.js';

/**
 * One job creation from a resumable upload (`POST /v1/jobs` with `upload_id`): takes the session,
 * streams its parts through the same upload path as a multipart file into `jobs/<job_id>/input`,
 * and afterwards either finishes the session (job made: parts deleted), removes it (its content
 * was refused: nothing kept) or hands it back (anything else: the bytes stay for another try).
 */
export class UploadSessionConsumption {
  private taken: UploadSession | null = null;
  private contentRefused = false;
  private sha256: string | null = null;

  constructor(
    private readonly deps: {
      uploads: UploadSessionStore;
      storage: ObjectStorage;
      limits: UploadLimits;
      log: FastifyBaseLogger;
    },
    readonly uploadId: string,
    private readonly ownerId: string,
  ) {}

  /**
   * The session's file stored under `jobId`. For a replay of an Idempotency-Key (`replay`), a
   * session that already made its job answers with that content's sha256 and stores nothing.
   */
  async receive(
    jobId: string,
    replay: boolean,
  ): Promise<{ stored: true; file: ReceivedUpload['file'] } | { stored: false; sha256: string }> {
    const { uploads, storage, limits } = this.deps;
    // A malformed id cannot exist: 404 as for an unknown one.
    if (!JOB_ID_PATTERN.test(this.uploadId)) throw new AppError('UPLOAD_NOT_FOUND');
    const outcome = await uploads.beginConsume(this.uploadId, this.ownerId);
    switch (outcome.kind) {
      case 'missing':
        throw new AppError('UPLOAD_NOT_FOUND');
      case 'busy':
        throw new AppError('UPLOAD_BUSY');
      case 'incomplete':
        throw new AppError(
          'UPLOAD_INCOMPLETE',
          `The upload has ${outcome.session.offset} of its ${outcome.session.size} bytes.`,
          { details: { offset: outcome.session.offset, size: outcome.session.size } },
        );
      case 'consumed': {
        const { session } = outcome;
        if (!replay || !session.sha256) {
          throw new AppError('UPLOAD_NOT_FOUND', 'This upload has already made its job.');
        }
        // Only the fingerprint matters to a replay: the content's sha256.
        return { stored: false, sha256: session.sha256 };
      }
      case 'ok':
        break;
    }
    this.taken = outcome.session;
    try {
      const file = await storeUploadStream(concatenateParts(storage, outcome.parts), {
        ...limits,
        storage,
        jobId,
        filename: outcome.session.filename,
        onRefused: 'destroy',
        log: this.deps.log,
      });
      if (file.sizeBytes !== outcome.session.size) {
        throw new AppError(
          'STORAGE_UNAVAILABLE',
          `The upload's parts hold ${file.sizeBytes} bytes, not ${outcome.session.size}.`,
        );
      }
      this.sha256 = file.sha256;
      return { stored: true, file };
    } catch (error) {
      // Refused for what the file is (type, name, size, polyglot): another try would be refused again.
      this.contentRefused = error instanceof AppError && ERROR_CATALOG[error.code].errorClass === 'input';
      throw error;
    }
  }

  /** The job was made (or a replay answered): the parts go, the session is kept as consumed. */
  async succeeded(jobId: string): Promise<void> {
    if (!this.taken || !this.sha256) return;
    await this.deps.uploads.finish(this.deps.storage, this.uploadId, this.ownerId, jobId, this.sha256);
    this.deps.log.info(
      { event: 'upload.session_consumed', upload_id: this.uploadId, job_id: jobId },
      'upload session made its job; parts removed',
    );
  }

  /** No job: a refused file's session is removed with its parts; any other failure hands it back. */
  async failed(error: unknown): Promise<void> {
    if (!this.taken) return;
    if (this.contentRefused) {
      await this.deps.uploads.remove(this.deps.storage, this.uploadId, this.ownerId);
      this.deps.log.info(
        {
          event: 'upload.session_refused',
          upload_id: this.uploadId,
          error_code: error instanceof AppError ? error.code : null,
        },
        'upload session refused for its content; session and parts removed',
      );
      return;
    }
    await this.deps.uploads.release(this.uploadId, this.ownerId);
  }
}
