import { createHash } from 'node:crypto';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AppError } from '../../src/contract/index.js';
import { ObjectTooLargeError } from '../../src/storage/object-storage.js';
import { S3Storage, type S3StorageOptions } from '../../src/storage/s3-storage.js';
import { type S3LoopbackServer, startS3LoopbackServer } from '../helpers/s3-loopback-server.js';

const MIB = 1024 * 1024;

/** `size` bytes of a repeating pattern, produced in 64 KiB slices (never one big buffer). */
function patternStream(size: number): Readable {
  let sent = 0;
  return new Readable({
    read() {
      if (sent >= size) return void this.push(null);
      const n = Math.min(64 * 1024, size - sent);
      const chunk = Buffer.alloc(n);
      for (let i = 0; i < n; i++) chunk[i] = (sent + i) % 251;
      sent += n;
      this.push(chunk);
    },
  });
}

async function readAll(stream: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

describe('S3Storage against an S3-speaking loopback server', () => {
  let server: S3LoopbackServer;
  let dir: string;
  const storages: S3Storage[] = [];

  function storageWith(overrides: Partial<S3StorageOptions> = {}): S3Storage {
    const storage = new S3Storage({
      bucket: server.bucket,
      prefix: 'tenant-a/',
      region: 'us-east-1',
      endpoint: server.endpoint,
      forcePathStyle: true,
      partSizeBytes: 5 * MIB,
      signedUrlTtlSec: 300,
      credentials: { accessKeyId: 'loopback', secretAccessKey: 'loopback-secret' },
      ...overrides,
    });
    storages.push(storage);
    return storage;
  }

  beforeAll(async () => {
    server = await startS3LoopbackServer();
    dir = await mkdtemp(path.join(os.tmpdir(), 'dt-s3-'));
  });
  afterAll(async () => {
    for (const storage of storages) storage.close();
    await server.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('streams an 11 MiB object up as a multipart upload and reads it back, hashed and measured', async () => {
    const storage = storageWith();
    const size = 11 * MIB;
    const stored = await storage.put('jobs/a/input', patternStream(size));
    const expected = await readAll(patternStream(size));
    expect(stored).toEqual({ sizeBytes: size, sha256: createHash('sha256').update(expected).digest('hex') });
    expect(server.requests.filter((r) => r.query.includes('partNumber=')).length).toBe(3);
    expect(server.objects.get('tenant-a/jobs/a/input')?.equals(expected)).toBe(true);
    expect(await storage.exists('jobs/a/input')).toBe(true);
    expect((await readAll(await storage.get('jobs/a/input'))).equals(expected)).toBe(true);
    await storage.download('jobs/a/input', path.join(dir, 'a'));
    expect((await readFile(path.join(dir, 'a'))).equals(expected)).toBe(true);
    expect(server.openUploads()).toBe(0);
  });

  it('sends a multipart object in parts of exactly the configured size and stores it byte-identical', async () => {
    // Not a multiple of the stream's 64 KiB slices: parts must be cut across chunks.
    const partSizeBytes = 5 * MIB + 1000;
    const storage = storageWith({ partSizeBytes });
    const size = 3 * partSizeBytes + 12_345;
    const stored = await storage.put('jobs/g/input', patternStream(size));
    const expected = await readAll(patternStream(size));
    const parts = server.requests.filter((r) => r.method === 'PUT' && r.path.endsWith('/jobs/g/input'));
    const sizes = parts.map((r) => [Number(new URLSearchParams(r.query).get('partNumber')), r.bodyBytes]);
    // Two parts are in flight at a time: they may arrive in either order.
    expect(sizes.sort(([a = 0], [b = 0]) => a - b)).toEqual([
      [1, partSizeBytes],
      [2, partSizeBytes],
      [3, partSizeBytes],
      [4, 12_345],
    ]);
    expect(server.objects.get('tenant-a/jobs/g/input')?.equals(expected)).toBe(true);
    expect(stored).toEqual({ sizeBytes: size, sha256: createHash('sha256').update(expected).digest('hex') });
    expect(server.openUploads()).toBe(0);
  });

  it('stores an object of exactly one part with one PUT and an empty object too', async () => {
    const storage = storageWith();
    await storage.put('jobs/h/input', patternStream(5 * MIB));
    await storage.put('jobs/h/empty', Readable.from([]));
    const puts = server.requests.filter((r) => r.path.includes('/jobs/h/'));
    expect(puts.map((r) => [r.method, r.query, r.bodyBytes])).toEqual([
      ['PUT', expect.not.stringContaining('partNumber'), 5 * MIB],
      ['PUT', expect.not.stringContaining('partNumber'), 0],
    ]);
    expect(server.objects.get('tenant-a/jobs/h/input')?.equals(await readAll(patternStream(5 * MIB)))).toBe(
      true,
    );
    expect(server.objects.get('tenant-a/jobs/h/empty')?.length).toBe(0);
  });

  it('writes small objects with one PUT and removes a whole job prefix', async () => {
    const storage = storageWith();
    await storage.put('jobs/b/input', 'input');
    await storage.put('jobs/b/output/result.txt', Buffer.from('text'));
    await storage.put('jobs/bb/input', 'another job');
    await storage.deletePrefix('jobs/b/');
    expect(await storage.exists('jobs/b/input')).toBe(false);
    expect(await storage.exists('jobs/b/output/result.txt')).toBe(false);
    expect(await storage.exists('jobs/bb/input')).toBe(true);
  });

  it('survives a part answered with 500 once: the SDK sends it again and the object is whole', async () => {
    const storage = storageWith();
    server.failUploadParts(1, 500);
    const size = 6 * MIB;
    const stored = await storage.put('jobs/c/input', patternStream(size));
    expect(stored.sizeBytes).toBe(size);
    expect(server.objects.get('tenant-a/jobs/c/input')?.equals(await readAll(patternStream(size)))).toBe(
      true,
    );
    expect(server.openUploads()).toBe(0);
  });

  it('gives up on a part that keeps failing with a transient STORAGE_UNAVAILABLE and leaves no parts behind', async () => {
    const storage = storageWith({ maxAttempts: 2 });
    server.failUploadParts(1000, 503);
    const failure = await storage
      .put('jobs/d/input', patternStream(12 * MIB))
      .catch((error: unknown) => error);
    server.failUploadParts(0);
    expect(failure).toBeInstanceOf(AppError);
    expect((failure as AppError).code).toBe('STORAGE_UNAVAILABLE');
    expect(server.openUploads()).toBe(0);
    expect(await storage.exists('jobs/d/input')).toBe(false);
  });

  it('refuses an object larger than maxBytes while it streams, and stores nothing', async () => {
    const storage = storageWith();
    const failure = await storage
      .put('jobs/e/input', patternStream(12 * MIB), { maxBytes: 7 * MIB })
      .catch((error: unknown) => error);
    expect(failure).toBeInstanceOf(ObjectTooLargeError);
    expect(server.openUploads()).toBe(0);
    expect(await storage.exists('jobs/e/input')).toBe(false);
  });

  it('signs a short-lived download URL that serves the object with the given file name', async () => {
    const storage = storageWith();
    await storage.put('jobs/f/output/result.txt', 'नमस्ते');
    const url = await storage.signedDownloadUrl('jobs/f/output/result.txt', {
      contentDisposition: 'attachment; filename="talk.txt"',
      contentType: 'text/plain; charset=utf-8',
    });
    expect(url).toContain('X-Amz-Expires=300');
    const answer = await fetch(url as string);
    expect(answer.status).toBe(200);
    expect(answer.headers.get('content-disposition')).toBe('attachment; filename="talk.txt"');
    expect(await answer.text()).toBe('नमस्ते');
    const unsigned = storageWith({ signedUrlTtlSec: 0 });
    expect(
      await unsigned.signedDownloadUrl('jobs/f/output/result.txt', {
        contentDisposition: 'x',
        contentType: 'y',
      }),
    ).toBeNull();
  });

  it('is ready when the bucket takes writes, and not when the store is unreachable', async () => {
    const before = server.objects.size;
    await storageWith().checkWritable();
    expect(server.objects.size).toBe(before);
    const unreachable = storageWith({ endpoint: 'http://127.0.0.1:9', maxAttempts: 1 });
    await expect(unreachable.checkWritable()).rejects.toBeInstanceOf(AppError);
  });
});
