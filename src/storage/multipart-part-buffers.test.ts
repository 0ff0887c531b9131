import { describe, expect, it } from 'vitest';
import { type FilledPart, MultipartPartBuffers } from './multipart-part-buffers.js';

async function* chunksOf(...sizes: number[]): AsyncGenerator<Buffer> {
  let next = 0;
  for (const size of sizes) {
    const chunk = Buffer.alloc(size);
    for (let i = 0; i < size; i++) chunk[i] = next++ % 251;
    yield chunk;
  }
}

function pattern(size: number): Buffer {
  return Buffer.from(Array.from({ length: size }, (_, i) => i % 251));
}

describe('MultipartPartBuffers', () => {
  it('cuts chunks of any size into parts of exactly the part size, the last one shorter', async () => {
    const buffers = new MultipartPartBuffers(10, 3);
    const seen: Array<{ number: number; bytes: Buffer; last: boolean }> = [];
    for await (const part of buffers.parts(chunksOf(3, 15, 1, 4))) {
      seen.push({ number: part.number, bytes: Buffer.from(part.bytes), last: part.last });
      part.release();
    }
    expect(seen.map((p) => [p.number, p.bytes.length, p.last])).toEqual([
      [1, 10, false],
      [2, 10, false],
      [3, 3, true],
    ]);
    expect(Buffer.concat(seen.map((p) => p.bytes)).equals(pattern(23))).toBe(true);
  });

  it('marks a part that ends exactly with the source as the last one', async () => {
    const buffers = new MultipartPartBuffers(10, 3);
    const parts: Array<[number, number, boolean]> = [];
    for await (const part of buffers.parts(chunksOf(10))) {
      parts.push([part.number, part.bytes.length, part.last]);
      part.release();
    }
    expect(parts).toEqual([[1, 10, true]]);
  });

  it('gives an empty source one empty last part', async () => {
    const parts: Array<[number, number, boolean]> = [];
    for await (const part of new MultipartPartBuffers(10, 3).parts(chunksOf())) {
      parts.push([part.number, part.bytes.length, part.last]);
    }
    expect(parts).toEqual([[1, 0, true]]);
  });

  it('refills released buffers instead of allocating a new one per part', async () => {
    const buffers = new MultipartPartBuffers(4, 2);
    const backing = new Set<ArrayBuffer>();
    for await (const part of buffers.parts(chunksOf(5, 7, 9, 11))) {
      backing.add(part.bytes.buffer as ArrayBuffer);
      part.release();
    }
    expect(backing.size).toBe(1);
  });

  it('waits for a released buffer before filling past the pool', async () => {
    const buffers = new MultipartPartBuffers(4, 2);
    const parts = buffers.parts(chunksOf(16));
    const first = (await parts.next()).value as FilledPart;
    const second = (await parts.next()).value as FilledPart;
    let third: FilledPart | undefined;
    const pending = parts.next().then((result) => {
      third = result.value as FilledPart;
    });
    await new Promise((resolve) => setImmediate(resolve));
    expect(third).toBeUndefined();
    const firstBytes = Buffer.from(first.bytes);
    first.release();
    await pending;
    expect(third?.number).toBe(3);
    expect(third?.bytes.buffer).toBe(first.bytes.buffer);
    expect(firstBytes.equals(pattern(4))).toBe(true);
    expect(
      Buffer.concat([firstBytes, second.bytes, third?.bytes ?? Buffer.alloc(0)]).equals(pattern(12)),
    ).toBe(true);
  });
});
