import { createHash } from 'node:crypto';
import { Transform } from 'node:stream';
import { ObjectTooLargeError, type StoredObject } from './object-storage.js';

/**
 * A pass-through that counts and hashes the bytes on their way to a store and fails the stream
 * once more than `maxBytes` arrive, so every backend enforces the same limit while streaming.
 */
export class ObjectMeter extends Transform {
  // Not `size`: stream consumers such as the SDKs may read a body's `size` as its length.
  private bytesSeen = 0;
  private readonly hash = createHash('sha256');

  constructor(private readonly maxBytes: number | undefined) {
    super();
  }

  override _transform(
    chunk: Buffer,
    _encoding: BufferEncoding,
    callback: (error?: Error | null, data?: Buffer) => void,
  ) {
    this.bytesSeen += chunk.length;
    if (this.maxBytes !== undefined && this.bytesSeen > this.maxBytes) {
      callback(new ObjectTooLargeError(this.maxBytes));
      return;
    }
    this.hash.update(chunk);
    callback(null, chunk);
  }

  /** Size and sha256 of everything that passed; call once the stream has ended. */
  result(): StoredObject {
    return { sizeBytes: this.bytesSeen, sha256: this.hash.digest('hex') };
  }
}
