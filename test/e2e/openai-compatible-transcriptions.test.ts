import { createReadStream } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import OpenAI, { AuthenticationError, BadRequestError } from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeSpokenWav } from '../helpers/make-media-fixtures.js';
import { startTestService, type TestService } from '../helpers/test-service.js';
import { wordRecall } from '../helpers/text-metrics.js';
import { TINY_PNG } from '../helpers/tiny-files.js';

const SENTENCE = 'the quick brown fox jumps over the lazy dog near the river bank';

let service: TestService;
let dir: string;
let wav: string;
let client: OpenAI;

beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'dt-openai-compat-'));
  [service, wav] = await Promise.all([startTestService('openai-compat'), makeSpokenWav(dir, SENTENCE)]);
  // Scripts authenticate with an API key, sent as `Authorization: Bearer`, as OpenAI's are.
  const created = await fetch(`${service.url}/v1/api-keys`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ name: 'openai client' }),
  });
  const { key } = (await created.json()) as { key: string };
  client = new OpenAI({ apiKey: key, baseURL: `${service.url}/v1`, maxRetries: 0 });
});
afterAll(async () => {
  await service?.close();
  await rm(dir, { recursive: true, force: true });
});

describe('POST /v1/audio/transcriptions with the official openai client', () => {
  it('answers json with the text', async () => {
    const result = await client.audio.transcriptions.create({
      file: createReadStream(wav),
      model: 'whisper-1',
      language: 'en',
      prompt: 'A sentence about a fox.',
    });
    expect(Object.keys(result)).toEqual(['text']);
    expect(wordRecall(SENTENCE, result.text)).toBeGreaterThanOrEqual(0.6);
  });

  it('answers text as plain text', async () => {
    const result = await client.audio.transcriptions.create({
      file: createReadStream(wav),
      model: 'whisper-1',
      response_format: 'text',
    });
    expect(typeof result).toBe('string');
    expect(wordRecall(SENTENCE, result)).toBeGreaterThanOrEqual(0.6);
  });

  it('answers srt and vtt subtitles', async () => {
    const srt = await client.audio.transcriptions.create({
      file: createReadStream(wav),
      model: 'whisper-1',
      response_format: 'srt',
    });
    expect(srt).toMatch(/^1\n\d\d:\d\d:\d\d,\d{3} --> \d\d:\d\d:\d\d,\d{3}\n/);
    const vtt = await client.audio.transcriptions.create({
      file: createReadStream(wav),
      model: 'whisper-1',
      response_format: 'vtt',
    });
    expect(vtt).toMatch(/^WEBVTT/);
  });

  it('answers verbose_json with the duration, language and timed segments', async () => {
    const result = await client.audio.transcriptions.create({
      file: createReadStream(wav),
      model: 'whisper-1',
      language: 'en',
      response_format: 'verbose_json',
      timestamp_granularities: ['segment'],
    });
    expect(result).toMatchObject({ task: 'transcribe', language: 'english' });
    expect(result.duration).toBeGreaterThan(2);
    expect(result.duration).toBeLessThan(8);
    expect(result.segments?.length).toBeGreaterThan(0);
    for (const segment of result.segments ?? []) {
      expect(segment.end).toBeGreaterThanOrEqual(segment.start);
      expect(segment.end).toBeLessThanOrEqual(result.duration + 0.5);
    }
    expect(result.segments?.map((s) => s.text).join(' ')).toBe(result.text);
  });

  it("reports errors in OpenAI's envelope: unknown model, not a recording, bad API key", async () => {
    const unknownModel = await client.audio.transcriptions
      .create({ file: createReadStream(wav), model: 'dall-e-3' })
      .catch((error: unknown) => error);
    expect(unknownModel).toBeInstanceOf(BadRequestError);
    expect((unknownModel as BadRequestError).error).toMatchObject({
      type: 'invalid_request_error',
      code: 'TRANSCRIPTION_MODEL_UNKNOWN',
    });

    const image = await client.audio.transcriptions
      .create({ file: new File([TINY_PNG], 'dot.png'), model: 'whisper-1' })
      .catch((error: unknown) => error);
    expect((image as { status: number }).status).toBe(422);
    expect((image as BadRequestError).error).toMatchObject({ code: 'JOB_TYPE_MISMATCH' });

    const stranger = new OpenAI({ apiKey: 'dt_not-a-real-key', baseURL: `${service.url}/v1`, maxRetries: 0 });
    const refused = await stranger.audio.transcriptions
      .create({ file: createReadStream(wav), model: 'whisper-1' })
      .catch((error: unknown) => error);
    expect(refused).toBeInstanceOf(AuthenticationError);
    expect((refused as AuthenticationError).error).toMatchObject({
      type: 'authentication_error',
      code: 'AUTH_API_KEY_INVALID',
    });
  });

  it('answers 202 with the job id when the job outlives OPENAI_COMPAT_WAIT_MS', async () => {
    const impatient = await startTestService('openai-compat-wait', { OPENAI_COMPAT_WAIT_MS: '0' });
    try {
      const form = new FormData();
      form.append('model', 'whisper-1');
      form.append('file', new Blob([await readFile(wav)]), 'talk.wav');
      const response = await fetch(`${impatient.url}/v1/audio/transcriptions`, {
        method: 'POST',
        body: form,
      });
      expect(response.status).toBe(202);
      const body = (await response.json()) as { job_id: string; status_url: string; result_url: string };
      expect(response.headers.get('location')).toBe(`/v1/jobs/${body.job_id}`);
      expect(body.result_url).toBe(`/v1/jobs/${body.job_id}/result?format=json`);
      const job = await fetch(`${impatient.url}${body.status_url}`);
      expect(job.status).toBe(200);
    } finally {
      await impatient.close();
    }
  });
});
