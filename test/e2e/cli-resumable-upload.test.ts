import { createHash } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DocTranscribeClient } from '../../src/client/doc-transcribe-client.js';
import { startTestService, type TestService } from '../helpers/test-service.js';
import { tinyWav } from '../helpers/tiny-files.js';

// The CLI's client sends a large file through a resumable upload session. Between it and the real
// service sits a proxy that cuts the first PATCH's connection half-way through its body: the client
// asks the offset and resumes, and the job's stored input is byte-identical to the file.
let svc: TestService;
let proxy: http.Server;
let proxyUrl: string;
let dir: string;
const seen: string[] = [];

beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'dt-cli-resumable-'));
  svc = await startTestService('cli-resumable-upload', { SERVICE_ROLE: 'api' });
  const target = new URL(svc.url);
  let cut = false;
  proxy = http.createServer((incoming, outgoing) => {
    seen.push(`${incoming.method} ${incoming.url?.replace(/[0-9a-f-]{36}/, ':id')}`);
    if (incoming.method === 'PATCH' && !cut) {
      cut = true;
      let received = 0;
      const length = Number(incoming.headers['content-length'] ?? 0);
      incoming.on('data', (chunk: Buffer) => {
        received += chunk.length;
        if (received >= length / 2) incoming.socket.destroy();
      });
      return;
    }
    const forwarded = http.request(
      {
        host: target.hostname,
        port: target.port,
        path: incoming.url,
        method: incoming.method,
        headers: incoming.headers,
      },
      (answer) => {
        outgoing.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(outgoing);
      },
    );
    forwarded.on('error', () => outgoing.destroy());
    incoming.pipe(forwarded);
  });
  await new Promise<void>((resolve) => proxy.listen(0, '127.0.0.1', resolve));
  proxyUrl = `http://127.0.0.1:${(proxy.address() as AddressInfo).port}`;
});
afterAll(async () => {
  proxy?.closeAllConnections();
  await new Promise<void>((resolve) => proxy?.close(() => resolve()) ?? resolve());
  await svc?.close();
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe('CLI client: large files through a resumable upload', () => {
  it('resumes after a cut PATCH and makes one job with the identical input', async () => {
    const bytes = tinyWav(150_000);
    const file = path.join(dir, 'long talk.wav');
    await writeFile(file, bytes);
    const client = new DocTranscribeClient(
      { server: proxyUrl, apiKey: null },
      { resumableAboveBytes: 100_000, chunkBytes: 100_000 },
    );
    const job = await client.submit(
      { path: file, filename: 'long talk.wav' },
      { language: 'en' },
      'cli-key-1',
    );
    expect(job).toMatchObject({
      status: 'QUEUED',
      job_type: 'TRANSCRIPTION',
      input_size_bytes: bytes.length,
    });

    expect(seen[0]).toBe('POST /v1/uploads');
    expect(seen).toContain('GET /v1/uploads/:id');
    // Four chunks (300,044 bytes in 100,000), the first one twice.
    expect(seen.filter((r) => r === 'PATCH /v1/uploads/:id')).toHaveLength(5);
    expect(seen.at(-1)).toBe('POST /v1/jobs');

    const original = await fetch(`${svc.url}/v1/jobs/${job.job_id}/input`);
    const sha = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');
    expect(sha(new Uint8Array(await original.arrayBuffer()))).toBe(sha(bytes));
    expect(svc.logs.filter((l) => l.event === 'upload.session_consumed')).toHaveLength(1);
  });
});
