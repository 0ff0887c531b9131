import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DocTranscribeClient } from '../../src/client/doc-transcribe-client.js';
import { startTestService, type TestService } from '../helpers/test-service.js';
import { tinyWav } from '../helpers/tiny-files.js';

/** Requests as `METHOD /path` with upload ids as `:id`. */
type Seen = string[];

/**
 * A relay between the client and the real service. `intercept` may take a request over (cut or
 * hold it) by returning true; everything else is forwarded as is.
 */
async function startRelay(
  targetUrl: string,
  intercept: (incoming: http.IncomingMessage) => boolean,
): Promise<{ url: string; seen: Seen; close(): Promise<void> }> {
  const target = new URL(targetUrl);
  const seen: Seen = [];
  const server = http.createServer((incoming, outgoing) => {
    seen.push(`${incoming.method} ${incoming.url?.replace(/[0-9a-f-]{36}/, ':id')}`);
    if (intercept(incoming)) return;
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
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    seen,
    close: async () => {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

const sha = (bytes: Uint8Array) => createHash('sha256').update(bytes).digest('hex');

let svc: TestService;
let dir: string;

beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'dt-cli-resumable-'));
  svc = await startTestService('cli-resumable-upload', { SERVICE_ROLE: 'api' });
});
afterAll(async () => {
  await svc?.close();
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe('CLI client: large files through a resumable upload', () => {
  // The relay cuts the first PATCH's connection half-way through its body: the client asks the
  // offset and resumes, and the job's stored input is byte-identical to the file.
  it('resumes after a cut PATCH and makes one job with the identical input', async () => {
    let cut = false;
    const relay = await startRelay(svc.url, (incoming) => {
      if (incoming.method !== 'PATCH' || cut) return false;
      cut = true;
      let received = 0;
      const length = Number(incoming.headers['content-length'] ?? 0);
      incoming.on('data', (chunk: Buffer) => {
        received += chunk.length;
        if (received >= length / 2) incoming.socket.destroy();
      });
      return true;
    });
    const seen = relay.seen;
    const bytes = tinyWav(150_000);
    const file = path.join(dir, 'long talk.wav');
    await writeFile(file, bytes);
    const client = new DocTranscribeClient(
      { server: relay.url, apiKey: null },
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
    expect(sha(new Uint8Array(await original.arrayBuffer()))).toBe(sha(bytes));
    expect(svc.logs.filter((l) => l.event === 'upload.session_consumed')).toHaveLength(1);
    await relay.close();
  });
});

describe('the CLI killed during a large upload', () => {
  it('goes on from the offset the server kept when run again, with the same session and one job', async () => {
    // 20 MB: three 8 MiB PATCHes. The first run is killed while its second PATCH hangs in a proxy.
    const bytes = tinyWav(10_000_000);
    const file = path.join(dir, 'three hour talk.wav');
    const stateFile = path.join(dir, 'killed-run-state.json');
    await writeFile(file, bytes);
    let hangPatches = true;
    let patches = 0;
    let hanging: (() => void) | undefined;
    const secondPatchHangs = new Promise<void>((resolve) => {
      hanging = resolve;
    });
    const relay = await startRelay(svc.url, (incoming) => {
      if (incoming.method !== 'PATCH' || !hangPatches || ++patches !== 2) return false;
      incoming.resume();
      hanging?.();
      return true;
    });
    const requests = relay.seen;
    const relayUrl = relay.url;
    const cli = (args: string[]) =>
      spawn(process.execPath, [path.resolve('dist/cli/main.js'), ...args], {
        env: { ...process.env, DT_SERVER: relayUrl, DT_API_KEY: '' },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
    try {
      const first = cli(['submit', file, '--state', stateFile, '--json']);
      const firstClosed = new Promise((resolve) => first.once('close', resolve));
      await secondPatchHangs;
      first.kill('SIGKILL');
      await firstClosed;
      const remembered = JSON.parse(await readFile(stateFile, 'utf8')) as {
        uploads: Record<string, { upload_id: string }>;
      };
      const [upload] = Object.values(remembered.uploads);
      expect(upload?.upload_id).toBeTruthy();
      const kept = (await (await fetch(`${svc.url}/v1/uploads/${upload?.upload_id}`)).json()) as {
        offset: number;
      };
      expect(kept.offset).toBe(8 * 1024 * 1024);

      hangPatches = false;
      requests.length = 0;
      const second = cli(['submit', file, '--state', stateFile, '--json']);
      let stdout = '';
      second.stdout.on('data', (chunk: Buffer) => {
        stdout += chunk.toString('utf8');
      });
      expect(await new Promise((resolve) => second.once('close', resolve))).toBe(0);
      expect(requests).not.toContain('POST /v1/uploads');
      expect(requests).toContain('GET /v1/uploads/:id');
      expect(requests.filter((r) => r === 'PATCH /v1/uploads/:id')).toHaveLength(2);
      const report = JSON.parse(stdout) as { files: Array<{ job_id: string | null }> };
      const jobId = report.files[0]?.job_id;
      const input = await fetch(`${svc.url}/v1/jobs/${jobId}/input`);
      expect(sha(new Uint8Array(await input.arrayBuffer()))).toBe(sha(bytes));
      const after = JSON.parse(await readFile(stateFile, 'utf8')) as { uploads: Record<string, unknown> };
      expect(after.uploads).toEqual({});
    } finally {
      await relay.close();
    }
  }, 60_000);
});
