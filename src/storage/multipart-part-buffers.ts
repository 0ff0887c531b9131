/** One part of a multipart upload, a view into a pooled buffer until `release()` gives it back. */
export interface FilledPart {
  /** 1, 2, 3…: S3's `PartNumber`. */
  number: number;
  /** The part's bytes: a view of the pooled buffer, valid until `release()`. */
  bytes: Buffer;
  /** No byte follows this part: the stream ended. */
  last: boolean;
  release(): void;
}

/**
 * A fixed pool of part-sized buffers that a stream's chunks are copied into, so a multipart upload
 * allocates its parts once instead of one fresh buffer per part (which, promoted before it dies,
 * piles up in V8's old space until a mark-compact). `count` is the parts in flight plus the one
 * being filled; filling waits for a released buffer, which is the upload's backpressure.
 */
export class MultipartPartBuffers {
  private readonly free: Buffer[] = [];
  private readonly waiting: Array<(buffer: Buffer) => void> = [];
  private allocated = 0;

  constructor(
    readonly partSizeBytes: number,
    readonly count: number,
  ) {}

  /**
   * The source's bytes cut into parts of exactly `partSizeBytes` (the last one shorter, or empty
   * for an empty source). A part is yielded once the next byte has arrived or the source ended,
   * so the first part tells whether the object fits in one part.
   */
  async *parts(source: AsyncIterable<Buffer>): AsyncGenerator<FilledPart> {
    let number = 1;
    let buffer = await this.acquire();
    let filled = 0;
    for await (const chunk of source) {
      let offset = 0;
      while (offset < chunk.length) {
        if (filled === this.partSizeBytes) {
          yield this.part(number++, buffer, filled, false);
          buffer = await this.acquire();
          filled = 0;
        }
        const copied = chunk.copy(buffer, filled, offset);
        filled += copied;
        offset += copied;
      }
    }
    yield this.part(number, buffer, filled, true);
  }

  private part(number: number, buffer: Buffer, filled: number, last: boolean): FilledPart {
    let released = false;
    return {
      number,
      bytes: buffer.subarray(0, filled),
      last,
      release: () => {
        if (released) return;
        released = true;
        this.release(buffer);
      },
    };
  }

  private acquire(): Promise<Buffer> {
    const buffer = this.free.pop();
    if (buffer) return Promise.resolve(buffer);
    if (this.allocated < this.count) {
      this.allocated += 1;
      // Unsafe: every byte sent is first written by the copy above.
      return Promise.resolve(Buffer.allocUnsafeSlow(this.partSizeBytes));
    }
    return new Promise((resolve) => this.waiting.push(resolve));
  }

  private release(buffer: Buffer): void {
    const next = this.waiting.shift();
    if (next) next(buffer);
    else this.free.push(buffer);
  }
}
