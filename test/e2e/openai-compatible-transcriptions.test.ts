import { createReadStream } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import OpenAI, { AuthenticationError, BadRequestError } from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Job } from '../../src/contract/index.js';
import { makeSpokenWav } from '../helpers/make-media-fixtures.js';
import {
  type OpenAiLoopbackServer,
  startOpenAiLoopbackServer,
  verboseJson,
} from '../helpers/openai-loopback-server.js';
import { startTestService, type TestService } from '../helpers/test-service.js';
import { wordRecall } from '../helpers/text-metrics.js';
import { TINY_PNG } from '../helpers/tiny-files.js';

const SENTENCE = 'the quick brown fox jumps over the lazy dog near the river bank';

let service: TestService;
let upstream: OpenAiLoopbackServer;
let dir: string;
let wav: string;
let client: OpenAI;

beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'dt-openai-compat-'));
  upstream = await startOpenAiLoopbackServer();
  // pocketsphinx by default; the openai engine (on a loopback server) is offered too, gemini is not.
  [service, wav] = await Promise.all([
    startTestService('openai-compat', { OPENAI_API_KEY: 'test-key', OPENAI_BASE_URL: upstream.baseUrl }),
    makeSpokenWav(dir, SENTENCE),
  ]);
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
  await upstream?.close();
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

  it('keeps every timestamp_granularities[] value the client sends and refuses word, naming the field', async () => {
    const jobsBefore = ((await (await fetch(`${service.url}/v1/jobs?limit=100`)).json()) as { items: Job[] })
      .items.length;
    // The client sends an array as one `timestamp_granularities[]` part per value: were only the
    // last kept, ['word', 'segment'] would pass as segment and answer without the words asked for.
    for (const granularities of [['segment', 'word'], ['word', 'segment'], ['word']] as Array<
      Array<'segment' | 'word'>
    >) {
      const refused = await client.audio.transcriptions
        .create({
          file: createReadStream(wav),
          model: 'whisper-1',
          response_format: 'verbose_json',
          timestamp_granularities: granularities,
        })
        .catch((error: unknown) => error);
      expect(refused, granularities.join(',')).toBeInstanceOf(BadRequestError);
      expect((refused as BadRequestError).error).toMatchObject({
        type: 'invalid_request_error',
        code: 'VALIDATION_FAILED',
        param: 'timestamp_granularities[]',
      });
      expect((refused as BadRequestError).message).toContain('word timestamps are not');
    }
    const jobsAfter = ((await (await fetch(`${service.url}/v1/jobs?limit=100`)).json()) as { items: Job[] })
      .items.length;
    expect(jobsAfter).toBe(jobsBefore);
  });

  it('runs the speech engine `model` names when it is offered; OpenAI model names run the default', async () => {
    const jobOf = async (response: Response) => {
      const jobId = response.headers.get('x-job-id') ?? '';
      return (await (await fetch(`${service.url}/v1/jobs/${jobId}`)).json()) as Job;
    };
    upstream.requests.length = 0;
    upstream.answer({ status: 200, body: verboseJson([{ start: 0.1, end: 2, text: 'heard upstream' }]) });
    const byOpenai = await client.audio.transcriptions
      .create({ file: createReadStream(wav), model: 'openai' })
      .withResponse();
    expect(byOpenai.data.text).toBe('heard upstream');
    expect(upstream.requests).toHaveLength(1);
    const openaiJob = await jobOf(byOpenai.response);
    expect(openaiJob.engine).toMatch(/^openai /);
    expect(openaiJob.transcription_options).toMatchObject({ engine: 'openai' });

    const byName = await client.audio.transcriptions
      .create({ file: createReadStream(wav), model: 'pocketsphinx' })
      .withResponse();
    expect(wordRecall(SENTENCE, byName.data.text)).toBeGreaterThanOrEqual(0.6);
    expect((await jobOf(byName.response)).engine).toMatch(/^pocketsphinx /);

    const byDefault = await client.audio.transcriptions
      .create({ file: createReadStream(wav), model: 'gpt-4o-transcribe' })
      .withResponse();
    const defaultJob = await jobOf(byDefault.response);
    expect(defaultJob.engine).toMatch(/^pocketsphinx /);
    expect(defaultJob.transcription_options?.engine).toBeUndefined();
    expect(upstream.requests).toHaveLength(1);
  });

  it("reports errors in OpenAI's envelope: model not offered, not a recording, bad API key", async () => {
    const jobsBefore = ((await (await fetch(`${service.url}/v1/jobs?limit=100`)).json()) as { items: Job[] })
      .items.length;
    // gemini is an engine this build has, but not configured here; dall-e-3 is no speech model at all.
    for (const model of ['gemini', 'dall-e-3']) {
      const refusedModel = await client.audio.transcriptions
        .create({ file: createReadStream(wav), model })
        .catch((error: unknown) => error);
      expect(refusedModel).toBeInstanceOf(BadRequestError);
      expect((refusedModel as BadRequestError).error).toMatchObject({
        type: 'model_not_found',
        code: 'ENGINE_NOT_OFFERED',
        param: 'model',
      });
      const { message } = (refusedModel as BadRequestError).error as { message: string };
      expect(message).toContain(`${model} is not offered here`);
      expect(message).toContain('whisper-1');
      expect(message).toContain('pocketsphinx, openai');
    }
    const jobsAfter = ((await (await fetch(`${service.url}/v1/jobs?limit=100`)).json()) as { items: Job[] })
      .items.length;
    expect(jobsAfter).toBe(jobsBefore);

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
