import { randomUUID } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import {
  AbortMultipartUploadCommand,
  type CompletedPart,
  CompleteMultipartUploadCommand,
  CreateMultipartUploadCommand,
  DeleteObjectCommand,
  DeleteObjectsCommand,
  GetObjectCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  NoSuchKey,
  NotFound,
  PutObjectCommand,
  S3Client,
  S3ServiceException,
  UploadPartCommand,
} from '@aws-sdk/client-s3';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import { AppError } from '../contract/index.js';
import { type FilledPart, MultipartPartBuffers } from './multipart-part-buffers.js';
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
  /** Multipart part size; S3 needs ≥ 5 MiB. Each upload holds three part buffers of this size. */
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
 * as multipart uploads through three preallocated part buffers (two parts in flight, one filling);
 * a failed upload is aborted, so no parts are left behind. Credentials come from the SDK's default chain.
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
    // Past maxBytes the meter fails the stream; the upload, reading it, aborts the multipart upload.
    const feeding = pipeline(source, meter);
    // A failed upload stops reading: end the feeding side too, or it would wait forever.
    const uploading = this.upload(this.keyOf(key), meter).catch((error: unknown) => {
      meter.destroy(error instanceof Error ? error : new Error(String(error)));
      throw error;
    });
    const [fed, uploaded] = await Promise.allSettled([feeding, uploading]);
    if (fed.status === 'rejected' && fed.reason instanceof ObjectTooLargeError) throw fed.reason;
    if (uploaded.status === 'rejected') throw storageUnavailable(uploaded.reason);
    if (fed.status === 'rejected') throw storageUnavailable(fed.reason);
    return meter.result();
  }

  /**
   * One PutObject when the body fits in a part, otherwise a multipart upload with QUEUE_SIZE parts
   * in flight, each sent from a pooled buffer that is refilled once S3 has acknowledged it. Any
   * failure waits for the parts in flight, then aborts the upload so no parts are left.
   */
  private async upload(key: string, body: AsyncIterable<Buffer>): Promise<void> {
    const Bucket = this.options.bucket;
    const buffers = new MultipartPartBuffers(this.options.partSizeBytes, QUEUE_SIZE + 1);
    const inFlight = new Set<Promise<void>>();
    const completed: CompletedPart[] = [];
    let failure: { error: unknown } | undefined;
    let uploadId: string | undefined;
    const send = (id: string, part: FilledPart) => {
      const sending = this.client
        .send(
          new UploadPartCommand({
            Bucket,
            Key: key,
            UploadId: id,
            PartNumber: part.number,
            Body: part.bytes,
            ContentLength: part.bytes.length,
          }),
        )
        .then(
          (answer) => {
            completed.push({ PartNumber: part.number, ETag: answer.ETag });
          },
          (error: unknown) => {
            failure ??= { error };
          },
        )
        .finally(() => {
          inFlight.delete(sending);
          part.release();
        });
      inFlight.add(sending);
    };
    try {
      for await (const part of buffers.parts(body)) {
        if (part.number === 1 && part.last) {
          await this.client.send(
            new PutObjectCommand({ Bucket, Key: key, Body: part.bytes, ContentLength: part.bytes.length }),
          );
          part.release();
          return;
        }
        uploadId ??= (await this.client.send(new CreateMultipartUploadCommand({ Bucket, Key: key })))
          .UploadId;
        if (!uploadId) throw new Error('CreateMultipartUpload answered without an UploadId');
        while (inFlight.size >= QUEUE_SIZE && !failure) await Promise.race(inFlight);
        if (failure) throw failure.error;
        send(uploadId, part);
      }
      await Promise.all(inFlight);
      if (failure) throw failure.error;
      completed.sort((a, b) => (a.PartNumber ?? 0) - (b.PartNumber ?? 0));
      await this.client.send(
        new CompleteMultipartUploadCommand({
          Bucket,
          Key: key,
          UploadId: uploadId,
          MultipartUpload: { Parts: completed },
        }),
      );
    } catch (error) {
      await Promise.all(inFlight);
      if (uploadId) await this.abort(key, uploadId);
      throw error;
    }
  }

  private async abort(key: string, uploadId: string): Promise<void> {
    try {
      await this.client.send(
        new AbortMultipartUploadCommand({ Bucket: this.options.bucket, Key: key, UploadId: uploadId }),
      );
    } catch {
      // The upload's own failure is what the caller acts on; the bucket's lifecycle rule for
      // incomplete multipart uploads (docs/scaling.md) removes parts an unreachable store kept.
    }
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
