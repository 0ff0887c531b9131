import { mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { Job } from '../../src/contract/index.js';
import {
  type GeminiLoopback,
  rateLimitReply,
  startGeminiLoopback,
} from '../helpers/gemini-loopback-server.js';
import { makeSpokenWav } from '../helpers/make-media-fixtures.js';
import { startTestService, submitFile, type TestService, waitForJob } from '../helpers/test-service.js';

// The whole service (HTTP → queue → worker → result) with TRANSCRIPTION_ENGINE=gemini, its base URL on a loopback server.
const SENTENCE = 'the river carries the old songs to the sea';
let svc: TestService;
let server: GeminiLoopback;
let dir: string;
let audio: Buffer;

async function submit(fields: Record<string, string>): Promise<Job> {
  const response = await submitFile(svc.url, { name: 'प्रवचन.wav', bytes: audio }, fields);
  expect(response.status).toBe(201);
  return waitForJob(svc.url, ((await response.json()) as Job).job_id);
}

beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'dt-gemini-speech-svc-'));
  server = await startGeminiLoopback();
  audio = await readFile(await makeSpokenWav(dir, SENTENCE));
  svc = await startTestService('gemini-speech-svc', {
    GEMINI_API_KEY: 'test-key',
    GEMINI_TRANSCRIPTION_MODEL: 'gemini-speech-test',
    GEMINI_BASE_URL: server.baseUrl,
    TRANSCRIPTION_ENGINE: 'gemini',
  });
});
beforeEach(() => {
  server.requests.length = 0;
  server.replies.length = 0;
});
afterAll(async () => {
  await svc?.close();
  await server?.close();
  await rm(dir, { recursive: true, force: true });
});

describe('the Gemini speech engine in the running service', () => {
  it('transcribes a recording with the prompt of its content subtype and records the engine', async () => {
    server.fallback = { text: JSON.stringify({ segments: [{ start: 0.2, end: 2.5, text: SENTENCE }] }) };
    const job = await submit({ job_type: 'TRANSCRIPTION', content_subtype: 'pravachan', language: 'en' });
    expect(job).toMatchObject({ status: 'COMPLETED', engine: 'gemini gemini-speech-test' });
    expect(server.requests).toHaveLength(1);
    expect(server.requests[0]?.path).toBe('/v1beta/models/gemini-speech-test:generateContent');
    expect(server.requests[0]?.body.contents[0]?.parts[0]?.text).toContain('pravachan');
    const txt = await fetch(`${svc.url}/v1/jobs/${job.job_id}/result?format=txt`);
    expect(await txt.text()).toContain(SENTENCE);
    const srt = await (await fetch(`${svc.url}/v1/jobs/${job.job_id}/result?format=srt`)).text();
    expect(srt).toMatch(/^1\n00:00:00,200 --> /);
  });

  it('retries a job whose chunk got a 429 through the retry policy, after the delay Gemini asked for', async () => {
    server.fallback = { text: JSON.stringify({ segments: [{ start: 0, end: 2.5, text: SENTENCE }] }) };
    server.replies.push(rateLimitReply('1s'));
    const job = await submit({ job_type: 'TRANSCRIPTION', content_subtype: 'general', language: 'en' });
    expect(job).toMatchObject({ status: 'COMPLETED', attempts: 2 });
    const times = server.requests.map((r) => r.receivedAt);
    expect(times).toHaveLength(2);
    expect((times[1] ?? 0) - (times[0] ?? 0)).toBeGreaterThanOrEqual(1000 - 50);
  });

  it('fails a job whose answers stay cut at the token limit with ENGINE_RESPONSE_TRUNCATED', async () => {
    server.fallback = {
      text: '{"segments": [{"start": 0, "end": 1, "text": "the sea the',
      finishReason: 'MAX_TOKENS',
    };
    const job = await submit({ job_type: 'TRANSCRIPTION', content_subtype: 'general', language: 'en' });
    expect(job).toMatchObject({ status: 'FAILED', error_code: 'ENGINE_RESPONSE_TRUNCATED' });
    // Each attempt asks twice (the second time strictly); the retry policy's `internal` budget decides the attempts.
    expect(server.requests).toHaveLength(2 * job.attempts);
  });
});
