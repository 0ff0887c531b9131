import OpenAI, { APIError } from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Job, Problem } from '../../src/contract/index.js';
import {
  startTestService,
  storedJobs,
  submitFile,
  submitThroughUploadSession,
  type TestService,
} from '../helpers/test-service.js';
import { tinyWav } from '../helpers/tiny-files.js';

// API only: a recording is measured with ffprobe when it is stored, before any job exists.
let svc: TestService;
const MAX_SEC = 3;
/** 16 kHz mono 16-bit silence: 5 s, over the limit, and 1 s, under it. */
const FIVE_SECONDS = tinyWav(5 * 16_000);
const ONE_SECOND = tinyWav(16_000);

beforeAll(async () => {
  svc = await startTestService('media-duration-at-upload', {
    SERVICE_ROLE: 'api',
    TRANSCRIPTION_MAX_DURATION_SEC: String(MAX_SEC),
  });
});
afterAll(async () => {
  await svc?.close();
});

async function newSince(before: Set<string>): Promise<string[]> {
  return [...(await storedJobs(svc))].filter((id) => !before.has(id));
}

describe('a recording longer than TRANSCRIPTION_MAX_DURATION_SEC is refused at upload', () => {
  it('answers 413 MEDIA_TOO_LONG naming the limit, whatever the client claims, and stores nothing', async () => {
    const before = await storedJobs(svc);
    const response = await submitFile(
      svc.url,
      { name: 'five-seconds.wav', bytes: FIVE_SECONDS },
      {},
      { 'x-media-duration': '1', 'content-duration': '1' },
    );
    expect(response.status).toBe(413);
    const problem = (await response.json()) as Problem & { max_duration_sec?: number };
    expect(problem.error_code).toBe('MEDIA_TOO_LONG');
    expect(problem.detail).toBe('The recording lasts 00:05; this service accepts up to 00:03.');
    expect(await newSince(before)).toEqual([]);
  });

  it('accepts a recording within the limit (201)', async () => {
    const response = await submitFile(svc.url, { name: 'one-second.wav', bytes: ONE_SECOND });
    expect(response.status).toBe(201);
    expect(((await response.json()) as Job).job_type).toBe('TRANSCRIPTION');
  });

  it('refuses the same recording made from a resumable upload, and removes the session', async () => {
    const before = await storedJobs(svc);
    const { uploadId, response } = await submitThroughUploadSession(svc.url, {
      name: 'five-seconds.wav',
      bytes: FIVE_SECONDS,
    });
    expect(response.status).toBe(413);
    expect(((await response.json()) as Problem).error_code).toBe('MEDIA_TOO_LONG');
    expect(await newSince(before)).toEqual([]);
    expect((await fetch(`${svc.url}/v1/uploads/${uploadId}`, { method: 'HEAD' })).status).toBe(404);
  });

  it('refuses it on the OpenAI-compatible route too, in OpenAI’s envelope', async () => {
    // Scripts authenticate with an API key of ours, sent as `Authorization: Bearer`.
    const created = await fetch(`${svc.url}/v1/api-keys`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ name: 'openai client' }),
    });
    const { key } = (await created.json()) as { key: string };
    const client = new OpenAI({ apiKey: key, baseURL: `${svc.url}/v1`, maxRetries: 0 });
    const before = await storedJobs(svc);
    const refused = await client.audio.transcriptions
      .create({ file: new File([FIVE_SECONDS], 'five-seconds.wav'), model: 'whisper-1' })
      .catch((error: unknown) => error);
    expect(refused).toBeInstanceOf(APIError);
    expect((refused as APIError).status).toBe(413);
    expect((refused as APIError).error).toMatchObject({
      code: 'MEDIA_TOO_LONG',
      type: 'invalid_request_error',
    });
    expect(await newSince(before)).toEqual([]);
  });
});
