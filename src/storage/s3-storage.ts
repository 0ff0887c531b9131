import { randomUUID } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import {
  DeleteObjectCommand,
  DeleteObjectsCommand,
  GetObjectCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  NoSuchKey,
  NotFound,
  S3Client,
  S3ServiceException,
} from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
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

export interface S3StorageOptions {
  bucket: string;
  /** Prepended to every key (`tenant-a/` → `tenant-a/jobs/<id>/input`). */
  prefix: string;
  region: string;
  /** An S3-compatible endpoint (MinIO, Ceph, R2…); unset means AWS. */
  endpoint?: string;
  forcePathStyle: boolean;
  /** Multipart part size; S3 needs ≥ 5 MiB. Memory per upload is about partSize × queueSize. */
  partSizeBytes: number;
  /** Lifetime of signed download URLs; 0 switches them off. */
  signedUrlTtlSec: number;
  /** Static keys, for tests; otherwise the SDK's default chain (env, profile, instance role). */
  credentials?: { accessKeyId: string; secretAccessKey: string };
  /** Attempts per request (the SDK retries 5xx, throttling and network errors). */
  maxAttempts?: number;
}

// Two parts in flight: enough to keep the link busy while bounding memory per upload.
const QUEUE_SIZE = 2;

/**
 * Objects in an S3 bucket (or any S3-compatible store) through the official SDK. Uploads stream
 * as multipart uploads (nothing larger than two parts is held in memory); a failed upload is
 * aborted, so no parts are left behind. Credentials come from the SDK's default chain.
 */
export class S3Storage implements ObjectStorage {
  readonly driver = 's3';
  private readonly client: S3Client;

  constructor(private readonly options: S3StorageOptions) {
    this.client = new S3Client({
      region: options.region,
      forcePathStyle: options.forcePathStyle,
      ...(options.endpoint ? { endpoint: options.endpoint } : {}),
      ...(options.maxAttempts ? { maxAttempts: options.maxAttempts } : {}),
      ...(options.credentials ? { credentials: options.credentials } : {}),
      // Many S3-compatible stores reject the SDK's default streaming trailer checksums.
      requestChecksumCalculation: 'WHEN_REQUIRED',
      responseChecksumValidation: 'WHEN_REQUIRED',
    });
  }

  private keyOf(key: string): string {
    return `${this.options.prefix}${key}`;
  }

  async put(key: string, body: Readable | Buffer | string, options: PutOptions = {}): Promise<StoredObject> {
    const meter = new ObjectMeter(options.maxBytes);
    const source =
      typeof body === 'string' || Buffer.isBuffer(body) ? Readable.from([Buffer.from(body)]) : body;
    const upload = new Upload({
      client: this.client,
      params: { Bucket: this.options.bucket, Key: this.keyOf(key), Body: meter },
      partSize: this.options.partSizeBytes,
      queueSize: QUEUE_SIZE,
      leavePartsOnError: false,
    });
    // Past maxBytes the meter fails the stream; lib-storage, reading it, aborts the multipart upload.
    const feeding = pipeline(source, meter);
    // A failed upload stops reading: end the feeding side too, or it would wait forever.
    const uploading = upload.done().catch((error: unknown) => {
      meter.destroy(error instanceof Error ? error : new Error(String(error)));
      throw error;
    });
    const [fed, uploaded] = await Promise.allSettled([feeding, uploading]);
    if (fed.status === 'rejected' && fed.reason instanceof ObjectTooLargeError) throw fed.reason;
    if (uploaded.status === 'rejected') throw storageUnavailable(uploaded.reason);
    if (fed.status === 'rejected') throw storageUnavailable(fed.reason);
    return meter.result();
  }

  async get(key: string): Promise<Readable> {
    try {
      const answer = await this.client.send(
        new GetObjectCommand({ Bucket: this.options.bucket, Key: this.keyOf(key) }),
      );
      return answer.Body as Readable;
    } catch (error) {
      if (error instanceof NoSuchKey || isNotFound(error)) throw new ObjectNotFoundError(key);
      throw storageUnavailable(error);
    }
  }

  async download(key: string, filePath: string): Promise<void> {
    await pipeline(await this.get(key), createWriteStream(filePath));
  }

  async exists(key: string): Promise<boolean> {
    try {
      await this.client.send(new HeadObjectCommand({ Bucket: this.options.bucket, Key: this.keyOf(key) }));
      return true;
    } catch (error) {
      if (error instanceof NotFound || isNotFound(error)) return false;
      throw storageUnavailable(error);
    }
  }

  async signedDownloadUrl(key: string, options: SignedDownloadOptions): Promise<string | null> {
    if (this.options.signedUrlTtlSec === 0) return null;
    const command = new GetObjectCommand({
      Bucket: this.options.bucket,
      Key: this.keyOf(key),
      ResponseContentDisposition: options.contentDisposition,
      ResponseContentType: options.contentType,
    });
    return getSignedUrl(this.client, command, { expiresIn: this.options.signedUrlTtlSec });
  }

  async deletePrefix(prefix: string): Promise<void> {
    try {
      let continuationToken: string | undefined;
      do {
        const page = await this.client.send(
          new ListObjectsV2Command({
            Bucket: this.options.bucket,
            Prefix: this.keyOf(prefix),
            ContinuationToken: continuationToken,
          }),
        );
        const objects = (page.Contents ?? []).flatMap((item) => (item.Key ? [{ Key: item.Key }] : []));
        if (objects.length > 0) {
          await this.client.send(
            new DeleteObjectsCommand({
              Bucket: this.options.bucket,
              Delete: { Objects: objects, Quiet: true },
            }),
          );
        }
        continuationToken = page.IsTruncated ? page.NextContinuationToken : undefined;
      } while (continuationToken);
    } catch (error) {
      throw storageUnavailable(error);
    }
  }

  async checkWritable(): Promise<void> {
    const key = `.readiness/${randomUUID()}`;
    await this.put(key, 'ok');
    try {
      await this.client.send(new DeleteObjectCommand({ Bucket: this.options.bucket, Key: this.keyOf(key) }));
    } catch (error) {
      throw storageUnavailable(error);
    }
  }

  close(): void {
    this.client.destroy();
  }
}

function isNotFound(error: unknown): boolean {
  return error instanceof S3ServiceException && error.$metadata.httpStatusCode === 404;
}

/** Anything the store answered or failed with after the SDK's own retries: worth trying later. */
function storageUnavailable(error: unknown): Error {
  if (error instanceof AppError) return error;
  return new AppError('STORAGE_UNAVAILABLE', undefined, { cause: error });
}
