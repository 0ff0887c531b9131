import { createHash, randomBytes } from 'node:crypto';
import { readdir } from 'node:fs/promises';
import http from 'node:http';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Job, Problem, UploadSessionView } from '../../src/contract/index.js';
import { OidcLoopbackIssuer } from '../helpers/oidc-loopback-issuer.js';
import { startTestService, submitFile, type TestService } from '../helpers/test-service.js';
import { tinyWav } from '../helpers/tiny-files.js';

// Resumable uploads end to end against the real service (API role: jobs stay QUEUED, which is all
// the byte-for-byte comparison of the stored input needs). Two users through a loopback OIDC issuer;
// a second service in local mode with sessions lasting three seconds shows the sweep.
let issuer: OidcLoopbackIssuer;
let svc: TestService;
let shortLived: TestService;
let alice: Record<string, string>;
let bob: Record<string, string>;

const PATCH_TYPE = 'application/offset+octet-stream';
/** A real WAV of ~400 kB: recognised by content, cut into 100 kB PATCHes below. */
const RECORDING = tinyWav(200_000);
const CHUNK = 100_000;

/** A 64-byte ELF header (x86-64 executable), as a renamed program would start. */
const ELF = Buffer.concat([
  Buffer.from([0x7f, 0x45, 0x4c, 0x46, 2, 1, 1, 0]),
  Buffer.alloc(8),
  Buffer.from([2, 0, 0x3e, 0, 1, 0, 0, 0]),
  Buffer.alloc(40),
  randomBytes(20_000),
]);

beforeAll(async () => {
  issuer = await new OidcLoopbackIssuer().start();
  svc = await startTestService(
    'resumable-upload',
    issuer.env({ SERVICE_ROLE: 'api', AUTH_ALLOWED_DOMAINS: 'example.org', UPLOAD_MAX_BYTES: '1000000' }),
  );
  shortLived = await startTestService('resumable-upload-expiry', {
    SERVICE_ROLE: 'api',
    UPLOAD_SESSION_TTL_SEC: '3',
    UPLOAD_SESSION_SWEEP_SEC: '1',
  });
  alice = { authorization: `Bearer ${await issuer.mint('alice')}` };
  bob = { authorization: `Bearer ${await issuer.mint('bob')}` };
});
afterAll(async () => {
  await svc?.close();
  await shortLived?.close();
  await issuer?.close();
});

const sha256 = (bytes: Uint8Array) => createHash('sha256').update(bytes).digest('hex');

async function createSession(
  headers: Record<string, string>,
  file: { filename: string; size: number },
  on: TestService = svc,
): Promise<Response> {
  return fetch(`${on.url}/v1/uploads`, {
    method: 'POST',
    headers: { ...headers, 'content-type': 'application/json' },
    body: JSON.stringify(file),
  });
}

async function openSession(
  headers: Record<string, string>,
  filename: string,
  size: number,
  on: TestService = svc,
): Promise<UploadSessionView> {
  const response = await createSession(headers, { filename, size }, on);
  expect(response.status).toBe(201);
  const session = (await response.json()) as UploadSessionView;
  expect(response.headers.get('location')).toBe(`/v1/uploads/${session.upload_id}`);
  expect(session).toMatchObject({ offset: 0, size, filename });
  return session;
}

function patch(
  headers: Record<string, string>,
  uploadId: string,
  offset: number,
  bytes: Uint8Array,
  on: TestService = svc,
): Promise<Response> {
  return fetch(`${on.url}/v1/uploads/${uploadId}`, {
    method: 'PATCH',
    headers: { ...headers, 'content-type': PATCH_TYPE, 'upload-offset': String(offset) },
    body: bytes,
  });
}

async function headOffset(headers: Record<string, string>, uploadId: string): Promise<number | null> {
  const response = await fetch(`${svc.url}/v1/uploads/${uploadId}`, { method: 'HEAD', headers });
  if (response.status !== 200) return null;
  return Number(response.headers.get('upload-offset'));
}

function createJob(headers: Record<string, string>, body: Record<string, unknown>, on: TestService = svc) {
  return fetch(`${on.url}/v1/jobs`, {
    method: 'POST',
    headers: { ...headers, 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
}

async function codeOf(response: Response): Promise<string> {
  return ((await response.json()) as Problem).error_code;
}

/** Every file under the service's storage directory `sub` (relative paths). */
async function filesUnder(service: TestService, sub: string): Promise<string[]> {
  const root = path.join(service.dataDir, 'storage', sub);
  return (await readdir(root, { recursive: true, withFileTypes: true }).catch(() => []))
    .filter((entry) => entry.isFile())
    .map((entry) => path.relative(root, path.join(entry.parentPath, entry.name)));
}

async function until<T>(what: string, probe: () => Promise<T | undefined | false>): Promise<T> {
  const deadline = Date.now() + 30_000;
  while (Date.now() < deadline) {
    const value = await probe();
    if (value !== undefined && value !== false) return value;
    await sleep(50);
  }
  throw new Error(`timed out waiting for ${what}`);
}

/**
 * A PATCH whose connection is destroyed half-way through its body: the server has begun writing
 * the part (its temp file exists) when the socket goes.
 */
async function cutPatch(uploadId: string, offset: number, bytes: Uint8Array): Promise<void> {
  const request = http.request(`${svc.url}/v1/uploads/${uploadId}`, {
    method: 'PATCH',
    headers: {
      ...alice,
      'content-type': PATCH_TYPE,
      'content-length': String(bytes.length),
      'upload-offset': String(offset),
    },
  });
  request.on('error', () => undefined);
  request.write(bytes.subarray(0, Math.floor(bytes.length / 2)));
  await until('the cut PATCH to reach storage', async () =>
    (await filesUnder(svc, `uploads/${uploadId}`)).some((name) => name.endsWith('.partial')),
  );
  request.socket?.destroy();
  request.destroy();
}

describe('resumable uploads (POST/HEAD/PATCH/DELETE /v1/uploads, POST /v1/jobs with upload_id)', () => {
  it('resumes after a PATCH cut mid-body and makes a job whose input is byte-identical', async () => {
    const session = await openSession(alice, 'long talk.wav', RECORDING.length);
    const first = await patch(alice, session.upload_id, 0, RECORDING.subarray(0, CHUNK));
    expect(first.status).toBe(204);
    expect(first.headers.get('upload-offset')).toBe(String(CHUNK));

    await cutPatch(session.upload_id, CHUNK, RECORDING.subarray(CHUNK, 2 * CHUNK));
    await until('the cut PATCH to be logged', async () =>
      svc.logs.some((l) => l.event === 'upload.part_aborted' && l.upload_id === session.upload_id),
    );
    // Only the completed part counts; the cut one left no part and no temp file.
    expect(await headOffset(alice, session.upload_id)).toBe(CHUNK);
    const parts = await filesUnder(svc, `uploads/${session.upload_id}`);
    expect(parts).toHaveLength(1);
    expect(parts[0]).toMatch(/^part-0-[0-9a-f]+$/);

    // Not complete yet: no job.
    const early = await createJob(alice, { upload_id: session.upload_id });
    expect(early.status).toBe(409);
    expect(await codeOf(early)).toBe('UPLOAD_INCOMPLETE');

    for (let offset = CHUNK; offset < RECORDING.length; offset += CHUNK) {
      const response = await patch(
        alice,
        session.upload_id,
        offset,
        RECORDING.subarray(offset, offset + CHUNK),
      );
      expect(response.status).toBe(204);
    }
    const viewed = await fetch(`${svc.url}/v1/uploads/${session.upload_id}`, { headers: alice });
    expect(((await viewed.json()) as UploadSessionView).offset).toBe(RECORDING.length);

    const created = await createJob(
      { ...alice, 'idempotency-key': 'resumable-1' },
      { upload_id: session.upload_id, language: 'en', chunk_sec: 30 },
    );
    expect(created.status).toBe(201);
    const job = (await created.json()) as Job;
    expect(job).toMatchObject({
      status: 'QUEUED',
      job_type: 'TRANSCRIPTION',
      input_filename: 'long talk.wav',
      input_size_bytes: RECORDING.length,
      transcription_options: { chunk_sec: 30 },
    });
    const original = await fetch(`${svc.url}/v1/jobs/${job.job_id}/input`, { headers: alice });
    expect(original.status).toBe(200);
    expect(sha256(new Uint8Array(await original.arrayBuffer()))).toBe(sha256(RECORDING));

    // The session made its job: parts gone, no more bytes or jobs from it.
    expect(await filesUnder(svc, `uploads/${session.upload_id}`)).toEqual([]);
    expect(await headOffset(alice, session.upload_id)).toBeNull();
    const again = await createJob(alice, { upload_id: session.upload_id });
    expect(again.status).toBe(404);
    expect(await codeOf(again)).toBe('UPLOAD_NOT_FOUND');
    // The same Idempotency-Key and fields answer with the same job.
    const replay = await createJob(
      { ...alice, 'idempotency-key': 'resumable-1' },
      { upload_id: session.upload_id, language: 'en', chunk_sec: 30 },
    );
    expect(replay.status).toBe(200);
    expect((await replay.json()) as Job).toMatchObject({ job_id: job.job_id, reused: true });
    expect(svc.logs.some((l) => l.event === 'upload.part_stored' && l.request_id)).toBe(true);
  });

  it('answers a PATCH at the wrong offset 409 with the server offset, and bytes beyond the size 413', async () => {
    const bytes = tinyWav(5_000);
    const session = await openSession(alice, 'short.wav', bytes.length);
    expect((await patch(alice, session.upload_id, 0, bytes.subarray(0, 4_000))).status).toBe(204);
    const wrong = await patch(alice, session.upload_id, 1_000, bytes.subarray(1_000));
    expect(wrong.status).toBe(409);
    const problem = (await wrong.json()) as Problem;
    expect(problem.error_code).toBe('UPLOAD_OFFSET_MISMATCH');
    expect(problem.detail).toContain('4000');
    const tooMuch = await patch(
      alice,
      session.upload_id,
      4_000,
      Buffer.concat([bytes.subarray(4_000), randomBytes(10)]),
    );
    expect(tooMuch.status).toBe(413);
    expect(await codeOf(tooMuch)).toBe('UPLOAD_LENGTH_EXCEEDED');
    expect(await headOffset(alice, session.upload_id)).toBe(4_000);
    expect(await filesUnder(svc, `uploads/${session.upload_id}`)).toHaveLength(1);
  });

  it('counts only one of two PATCHes racing for the same offset', async () => {
    const bytes = tinyWav(30_000);
    const session = await openSession(alice, 'race.wav', bytes.length);
    const half = bytes.subarray(0, 30_000);
    const statuses = (
      await Promise.all([patch(alice, session.upload_id, 0, half), patch(alice, session.upload_id, 0, half)])
    ).map((r) => r.status);
    expect(statuses.sort()).toEqual([204, 409]);
    expect(await headOffset(alice, session.upload_id)).toBe(30_000);
    expect(await filesUnder(svc, `uploads/${session.upload_id}`)).toHaveLength(1);
  });

  it('refuses a declared size above the upload limit with the code the multipart route uses', async () => {
    const response = await createSession(alice, { filename: 'huge.wav', size: 1_000_001 });
    expect(response.status).toBe(413);
    expect(await codeOf(response)).toBe('FILE_TOO_LARGE');
    const multipart = await submitFile(svc.url, { name: 'huge.wav', bytes: tinyWav(500_001) }, {}, alice);
    expect(multipart.status).toBe(413);
    expect(await codeOf(multipart)).toBe('FILE_TOO_LARGE');
  });

  it("never shows, extends, removes or uses another user's upload: 404", async () => {
    const bytes = tinyWav(2_000);
    const session = await openSession(alice, 'mine.wav', bytes.length);
    const url = `${svc.url}/v1/uploads/${session.upload_id}`;
    for (const response of [
      await fetch(url, { headers: bob }),
      await patch(bob, session.upload_id, 0, bytes),
      await fetch(url, { method: 'DELETE', headers: bob }),
    ]) {
      expect(response.status).toBe(404);
      expect(await codeOf(response)).toBe('UPLOAD_NOT_FOUND');
    }
    expect((await fetch(url, { method: 'HEAD', headers: bob })).status).toBe(404);
    expect((await patch(alice, session.upload_id, 0, bytes)).status).toBe(204);
    const stolen = await createJob(bob, { upload_id: session.upload_id });
    expect(stolen.status).toBe(404);
    expect(await codeOf(stolen)).toBe('UPLOAD_NOT_FOUND');
    expect(await headOffset(alice, session.upload_id)).toBe(bytes.length);
  });

  it('terminates a session with DELETE, removing its parts from storage', async () => {
    const bytes = tinyWav(10_000);
    const session = await openSession(alice, 'gone.wav', bytes.length);
    expect((await patch(alice, session.upload_id, 0, bytes.subarray(0, 5_000))).status).toBe(204);
    expect(await filesUnder(svc, `uploads/${session.upload_id}`)).toHaveLength(1);
    const removed = await fetch(`${svc.url}/v1/uploads/${session.upload_id}`, {
      method: 'DELETE',
      headers: alice,
    });
    expect(removed.status).toBe(204);
    expect(await filesUnder(svc, `uploads/${session.upload_id}`)).toEqual([]);
    expect(await headOffset(alice, session.upload_id)).toBeNull();
    expect((await patch(alice, session.upload_id, 5_000, bytes.subarray(5_000))).status).toBe(404);
  });

  it('refuses a renamed executable uploaded through a session as multipart does, keeping nothing', async () => {
    const multipart = await submitFile(svc.url, { name: 'report.pdf', bytes: ELF }, {}, alice);
    expect(multipart.status).toBe(415);
    const multipartCode = await codeOf(multipart);
    expect(multipartCode).toBe('FILE_EXTENSION_MISMATCH');

    const jobsBefore = await filesUnder(svc, 'jobs');
    const session = await openSession(alice, 'report.pdf', ELF.length);
    for (let offset = 0; offset < ELF.length; offset += 8_000) {
      expect(
        (await patch(alice, session.upload_id, offset, ELF.subarray(offset, offset + 8_000))).status,
      ).toBe(204);
    }
    const refused = await createJob(alice, { upload_id: session.upload_id });
    expect(refused.status).toBe(415);
    expect(await codeOf(refused)).toBe(multipartCode);
    expect(await filesUnder(svc, `uploads/${session.upload_id}`)).toEqual([]);
    expect(await filesUnder(svc, 'jobs')).toEqual(jobsBefore);
    expect(await headOffset(alice, session.upload_id)).toBeNull();
  });

  it('sweeps an expired session: its parts are deleted and it is gone', async () => {
    const bytes = tinyWav(4_000);
    const session = await openSession({}, 'late.wav', bytes.length, shortLived);
    expect((await patch({}, session.upload_id, 0, bytes.subarray(0, 3_000), shortLived)).status).toBe(204);
    expect(await filesUnder(shortLived, `uploads/${session.upload_id}`)).toHaveLength(1);
    await until('the sweep to log the expired session', async () =>
      shortLived.logs.some((l) => l.event === 'upload.session_expired' && l.upload_id === session.upload_id),
    );
    expect(await filesUnder(shortLived, `uploads/${session.upload_id}`)).toEqual([]);
    const late = await patch({}, session.upload_id, 3_000, bytes.subarray(3_000), shortLived);
    expect(late.status).toBe(404);
    expect(await codeOf(late)).toBe('UPLOAD_NOT_FOUND');
  });
});
