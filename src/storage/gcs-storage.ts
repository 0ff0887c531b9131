import { randomUUID } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { ApiError, type Bucket, IdempotencyStrategy, Storage } from '@google-cloud/storage';
import { AppError } from '../contract/index.js';
import { ObjectMeter } from './object-meter.js';
import {
  ObjectNotFoundError,
  type ObjectStorage,
  ObjectTooLargeError,
  type PutOptions,
  type SignedDownloadOptions,
  type StoredObject,
} from './object-storage.js';

export interface GcsStorageOptions {
  bucket: string;
  /** Prepended to every key. */
  prefix: string;
  /** Another JSON API endpoint (an emulator, the tests' loopback server); unset means Google's. */
  endpoint?: string;
  /** Resumable-upload chunk size (a multiple of 256 KiB); the memory an upload holds. */
  chunkSizeBytes: number;
  /** Lifetime of signed download URLs; 0 switches them off. */
  signedUrlTtlSec: number;
  /** A service account key, for tests; otherwise Application Default Credentials are used. */
  credentials?: { client_email: string; private_key: string };
  projectId?: string;
}

/**
 * Objects in a Google Cloud Storage bucket through the official SDK. Uploads are resumable
 * sessions sent in chunks, so a 5xx mid-upload resumes from the last acknowledged byte and no
 * upload holds more than one chunk in memory. Signed URLs need a key that can sign (a service
 * account key, or ADC with iam.serviceAccounts.signBlob).
 */
export class GcsStorage implements ObjectStorage {
  readonly driver = 'gcs';
  private readonly bucket: Bucket;

  constructor(private readonly options: GcsStorageOptions) {
    const storage = new Storage({
      ...(options.endpoint ? { apiEndpoint: options.endpoint } : {}),
      ...(options.credentials ? { credentials: options.credentials } : {}),
      ...(options.projectId ? { projectId: options.projectId } : {}),
      retryOptions: {
        autoRetry: true,
        maxRetries: 3,
        retryDelayMultiplier: 2,
        // Every key is written by one job step at a time, so repeating a write is safe.
        idempotencyStrategy: IdempotencyStrategy.RetryAlways,
      },
    });
    this.bucket = storage.bucket(options.bucket);
  }

  private keyOf(key: string): string {
    return `${this.options.prefix}${key}`;
  }

  async put(key: string, body: Readable | Buffer | string, options: PutOptions = {}): Promise<StoredObject> {
    const meter = new ObjectMeter(options.maxBytes);
    const source =
      typeof body === 'string' || Buffer.isBuffer(body) ? Readable.from([Buffer.from(body)]) : body;
    const target = this.bucket.file(this.keyOf(key)).createWriteStream({
      resumable: true,
      chunkSize: this.options.chunkSizeBytes,
      // Integrity is ours: the meter's sha256 is recorded with the job.
      validation: false,
      metadata: { contentType: 'application/octet-stream' },
    });
    try {
      await pipeline(source, meter, target);
    } catch (error) {
      // An unfinished resumable session stores nothing: there is no object to remove.
      if (error instanceof ObjectTooLargeError) throw error;
      throw storageUnavailable(error);
    }
    return meter.result();
  }

  async get(key: string): Promise<Readable> {
    const file = this.bucket.file(this.keyOf(key));
    if (!(await this.exists(key))) throw new ObjectNotFoundError(key);
    return file.createReadStream({ validation: false });
  }

  async download(key: string, filePath: string): Promise<void> {
    try {
      await pipeline(await this.get(key), createWriteStream(filePath));
    } catch (error) {
      if (error instanceof ObjectNotFoundError) throw error;
      throw storageUnavailable(error);
    }
  }

  async exists(key: string): Promise<boolean> {
    try {
      const [found] = await this.bucket.file(this.keyOf(key)).exists();
      return found;
    } catch (error) {
      throw storageUnavailable(error);
    }
  }

  async signedDownloadUrl(key: string, options: SignedDownloadOptions): Promise<string | null> {
    if (this.options.signedUrlTtlSec === 0) return null;
    const [url] = await this.bucket.file(this.keyOf(key)).getSignedUrl({
      version: 'v4',
      action: 'read',
      expires: Date.now() + this.options.signedUrlTtlSec * 1000,
      responseDisposition: options.contentDisposition,
      responseType: options.contentType,
    });
    return url;
  }

  async deletePrefix(prefix: string): Promise<void> {
    try {
      await this.bucket.deleteFiles({ prefix: this.keyOf(prefix), force: true });
    } catch (error) {
      if (error instanceof ApiError && error.code === 404) return;
      throw storageUnavailable(error);
    }
  }

  async checkWritable(): Promise<void> {
    const key = `.readiness/${randomUUID()}`;
    await this.put(key, 'ok');
    try {
      await this.bucket.file(this.keyOf(key)).delete({ ignoreNotFound: true });
    } catch (error) {
      throw storageUnavailable(error);
    }
  }
}

function storageUnavailable(error: unknown): Error {
  if (error instanceof AppError) return error;
  return new AppError('STORAGE_UNAVAILABLE', undefined, { cause: error });
}
