import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { describe, expect, it } from 'vitest';
import { UploadTail, ZIP_TAIL_BYTES } from './check-upload.js';

async function tailOf(chunks: Buffer[]): Promise<Buffer> {
  const tail = new UploadTail();
  await pipeline(Readable.from(chunks), tail, async (source: AsyncIterable<Buffer>) => {
    for await (const _ of source);
  });
  return tail.tail;
}

describe('UploadTail', () => {
  it('keeps exactly the last ZIP_TAIL_BYTES, whatever the chunk sizes', async () => {
    const bytes = Buffer.alloc(300_000);
    for (let i = 0; i < bytes.length; i++) bytes[i] = (i * 7919) % 251;
    for (const size of [1, 1000, 65_536, 65_557, 100_000, 300_000]) {
      const chunks: Buffer[] = [];
      for (let at = 0; at < bytes.length; at += size) chunks.push(bytes.subarray(at, at + size));
      expect((await tailOf(chunks)).equals(bytes.subarray(bytes.length - ZIP_TAIL_BYTES)), String(size)).toBe(
        true,
      );
    }
  });

  it('keeps all of a stream shorter than the tail', async () => {
    expect((await tailOf([Buffer.from('ab'), Buffer.from('cd')])).toString()).toBe('abcd');
  });
});
