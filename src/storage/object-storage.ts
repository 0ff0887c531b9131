import type { Readable } from 'node:stream';

export interface StoredObject {
  sizeBytes: number;
  sha256: string;
}

export interface PutOptions {
  /** Abort the write (and remove what was written) once more than this many bytes arrive. */
  maxBytes?: number;
}

export interface SignedDownloadOptions {
  /** The Content-Disposition the store must answer with (the download's file name). */
  contentDisposition: string;
  contentType: string;
}

/**
 * Where uploads and results live. Keys are made by the service (`jobs/<id>/input`), never from
 * user-supplied names. Writes are all-or-nothing: a failed or oversized put leaves no object.
 */
export interface ObjectStorage {
  readonly driver: string;
  put(key: string, body: Readable | Buffer | string, options?: PutOptions): Promise<StoredObject>;
  /** A stream of the object; rejects with AppError('RESULT_FORMAT_UNAVAILABLE')-style callers' errors via `exists` first. */
  get(key: string): Promise<Readable>;
  /** Copy the object to a local file (engines need paths). */
  download(key: string, filePath: string): Promise<void>;
  exists(key: string): Promise<boolean>;
  /**
   * A short-lived URL from which a client can fetch the object directly, or null when this store
   * cannot sign one or signed downloads are switched off (the API then streams the object itself).
   */
  signedDownloadUrl(key: string, options: SignedDownloadOptions): Promise<string | null>;
  deletePrefix(prefix: string): Promise<void>;
  /** Proves the store accepts writes right now (readiness). */
  checkWritable(): Promise<void>;
}

export class ObjectTooLargeError extends Error {
  constructor(readonly maxBytes: number) {
    super(`object larger than ${maxBytes} bytes`);
    this.name = 'ObjectTooLargeError';
  }
}

/** The key does not exist in the store (as opposed to the store being unreachable). */
export class ObjectNotFoundError extends Error {
  constructor(readonly key: string) {
    super(`no object at ${key}`);
    this.name = 'ObjectNotFoundError';
  }
}
