import { createHash, generateKeyPairSync } from 'node:crypto';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AppError } from '../../src/contract/index.js';
import { GcsStorage, type GcsStorageOptions } from '../../src/storage/gcs-storage.js';
import { ObjectTooLargeError } from '../../src/storage/object-storage.js';
import { type GcsLoopbackServer, startGcsLoopbackServer } from '../helpers/gcs-loopback-server.js';

const KIB = 1024;

/** `size` bytes of a repeating pattern, produced in 64 KiB slices. */
function patternStream(size: number): Readable {
  let sent = 0;
  return new Readable({
    read() {
      if (sent >= size) return void this.push(null);
      const n = Math.min(64 * KIB, size - sent);
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

describe('GcsStorage against a GCS JSON API loopback server', () => {
  let server: GcsLoopbackServer;
  let dir: string;
  // A service-account key made here, so signed URLs are signed locally like in production.
  const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const credentials = {
    client_email: 'doc-transcribe@test-project.iam.gserviceaccount.com',
    private_key: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
  };

  function storageWith(overrides: Partial<GcsStorageOptions> = {}): GcsStorage {
    return new GcsStorage({
      bucket: server.bucket,
      prefix: 'tenant-a/',
      endpoint: server.endpoint,
      chunkSizeBytes: 256 * KIB,
      signedUrlTtlSec: 300,
      projectId: 'test-project',
      credentials,
      ...overrides,
    });
  }

  beforeAll(async () => {
    server = await startGcsLoopbackServer();
    dir = await mkdtemp(path.join(os.tmpdir(), 'dt-gcs-'));
  });
  afterAll(async () => {
    await server.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('streams an object up as a chunked resumable upload and reads it back, hashed and measured', async () => {
    const storage = storageWith();
    const size = 1024 * KIB + 5;
    const stored = await storage.put('jobs/a/input', patternStream(size));
    const expected = await readAll(patternStream(size));
    expect(stored).toEqual({ sizeBytes: size, sha256: createHash('sha256').update(expected).digest('hex') });
    expect(server.requests.filter((r) => r.method === 'PUT').length).toBe(5);
    expect(server.objects.get('tenant-a/jobs/a/input')?.equals(expected)).toBe(true);
    expect(await storage.exists('jobs/a/input')).toBe(true);
    expect(await storage.exists('jobs/a/missing')).toBe(false);
    expect((await readAll(await storage.get('jobs/a/input'))).equals(expected)).toBe(true);
    await storage.download('jobs/a/input', path.join(dir, 'a'));
    expect((await readFile(path.join(dir, 'a'))).equals(expected)).toBe(true);
    expect(server.openSessions()).toBe(0);
  });

  it('resumes after a chunk answered with 503: the session continues from the last byte the server holds', async () => {
    const storage = storageWith();
    server.failChunks(1, 503);
    const size = 768 * KIB;
    const stored = await storage.put('jobs/b/input', patternStream(size));
    expect(stored.sizeBytes).toBe(size);
    expect(server.objects.get('tenant-a/jobs/b/input')?.equals(await readAll(patternStream(size)))).toBe(
      true,
    );
    expect(server.openSessions()).toBe(0);
  });

  it('reports a store that keeps failing as a transient STORAGE_UNAVAILABLE and keeps no object', async () => {
    const storage = storageWith();
    server.failChunks(1000, 503);
    const failure = await storage
      .put('jobs/c/input', patternStream(512 * KIB))
      .catch((error: unknown) => error);
    server.failChunks(0);
    expect(failure).toBeInstanceOf(AppError);
    expect((failure as AppError).code).toBe('STORAGE_UNAVAILABLE');
    expect(await storage.exists('jobs/c/input')).toBe(false);
  });

  it('refuses an object larger than maxBytes while it streams, and stores nothing', async () => {
    const storage = storageWith();
    const failure = await storage
      .put('jobs/d/input', patternStream(1024 * KIB), { maxBytes: 300 * KIB })
      .catch((error: unknown) => error);
    expect(failure).toBeInstanceOf(ObjectTooLargeError);
    expect(await storage.exists('jobs/d/input')).toBe(false);
  });

  it('removes a whole job prefix and nothing else', async () => {
    const storage = storageWith();
    await storage.put('jobs/e/input', 'input');
    await storage.put('jobs/e/output/result.txt', 'text');
    await storage.put('jobs/ee/input', 'another job');
    await storage.deletePrefix('jobs/e/');
    expect(await storage.exists('jobs/e/input')).toBe(false);
    expect(await storage.exists('jobs/e/output/result.txt')).toBe(false);
    expect(await storage.exists('jobs/ee/input')).toBe(true);
  });

  it('signs a V4 download URL that serves the object with the given file name', async () => {
    const storage = storageWith();
    await storage.put('jobs/f/output/result.txt', 'नमस्ते');
    const url = await storage.signedDownloadUrl('jobs/f/output/result.txt', {
      contentDisposition: 'attachment; filename="talk.txt"',
      contentType: 'text/plain; charset=utf-8',
    });
    expect(url).toContain('X-Goog-Expires=300');
    const answer = await fetch(url as string);
    expect(answer.status).toBe(200);
    expect(answer.headers.get('content-disposition')).toBe('attachment; filename="talk.txt"');
    expect(await answer.text()).toBe('नमस्ते');
    expect(
      await storageWith({ signedUrlTtlSec: 0 }).signedDownloadUrl('jobs/f/output/result.txt', {
        contentDisposition: 'x',
        contentType: 'y',
      }),
    ).toBeNull();
  });

  it('is ready when the bucket takes writes, and leaves no probe behind', async () => {
    const before = server.objects.size;
    await storageWith().checkWritable();
    expect(server.objects.size).toBe(before);
  });
});
