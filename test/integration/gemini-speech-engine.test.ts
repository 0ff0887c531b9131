import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { OAuth2Client } from 'google-auth-library';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { AppError } from '../../src/contract/index.js';
import { GeminiSpeechEngine } from '../../src/engines/speech/gemini-speech-engine.js';
import { runChildProcess } from '../../src/process/run-child-process.js';
import {
  type GeminiLoopback,
  rateLimitReply,
  startGeminiLoopback,
} from '../helpers/gemini-loopback-server.js';
import { makeSpokenWav } from '../helpers/make-media-fixtures.js';
import { transcribeWithPipeline } from '../helpers/run-transcription-pipeline.js';

// The real `@google/genai` SDK against a loopback server speaking the Gemini REST wire format.
const SENTENCE = 'the river carries the old songs to the sea';
let server: GeminiLoopback;
let dir: string;
/** 16 kHz mono 16-bit, 4 s long: the format the pipeline's chunks have. */
let wav: string;
let engine: GeminiSpeechEngine;

const options = (extra: Record<string, unknown> = {}) => ({
  language: 'hi',
  signal: new AbortController().signal,
  ...extra,
});
const answer = (segments: Array<{ start: number; end: number; text: string }>) =>
  JSON.stringify({ segments });

async function failure(promise: Promise<unknown>): Promise<AppError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(AppError);
  return error as AppError;
}

beforeAll(async () => {
  server = await startGeminiLoopback();
  dir = await mkdtemp(path.join(os.tmpdir(), 'dt-gemini-speech-'));
  const spoken = await makeSpokenWav(dir, SENTENCE);
  wav = path.join(dir, 'chunk.wav');
  await runChildProcess(
    'ffmpeg',
    ['-nostdin', '-v', 'error', '-i', spoken, '-af', 'apad', '-t', '4', '-ar', '16000', '-ac', '1', wav],
    { timeoutMs: 30_000 },
  );
  engine = new GeminiSpeechEngine({
    apiKey: 'test-key',
    model: 'gemini-test',
    baseUrl: server.baseUrl,
    maxOutputTokens: 2048,
    timeoutMs: 10_000,
  });
});
beforeEach(() => {
  server.requests.length = 0;
  server.replies.length = 0;
});
afterAll(async () => {
  await server?.close();
  await rm(dir, { recursive: true, force: true });
});

describe('Gemini speech engine', () => {
  it('sends the chunk inline with the subtype prompt, temperature 0 and a JSON schema, and reads the segments', async () => {
    server.replies.push({
      text: answer([
        { start: 0, end: 1.6, text: ' the river carries ' },
        { start: 1.6, end: 3.2, text: 'the old songs to the sea' },
      ]),
    });
    const heard: number[] = [];
    const segments = await engine.transcribe(
      wav,
      options({ contentSubtype: 'pravachan', onSegment: (s: { end: number }) => heard.push(s.end) }),
    );
    expect(segments).toEqual([
      { start: 0, end: 1.6, text: 'the river carries' },
      { start: 1.6, end: 3.2, text: 'the old songs to the sea' },
    ]);
    expect(heard).toEqual([1.6, 3.2]);
    const request = server.requests[0];
    expect(request?.path).toBe('/v1beta/models/gemini-test:generateContent');
    expect(request?.apiKey).toBe('test-key');
    const [prompt, audio] = request?.body.contents[0]?.parts ?? [];
    expect(prompt?.text).toContain('pravachan');
    expect(prompt?.text).toContain('This clip is 4.00 seconds long.');
    expect(prompt?.text).toContain('mostly in Hindi');
    expect(audio?.inlineData?.mimeType).toBe('audio/wav');
    expect(Buffer.from(audio?.inlineData?.data ?? '', 'base64').length).toBeGreaterThan(4 * 32_000);
    const config = request?.body.generationConfig as Record<string, unknown>;
    expect(config).toMatchObject({
      temperature: 0,
      maxOutputTokens: 2048,
      responseMimeType: 'application/json',
    });
    expect(JSON.stringify(config.responseSchema)).toContain('"segments"');
    expect(await engine.version()).toBe('gemini-test');
  });

  it('reaches Vertex AI instead with a project, a region and a service account’s bearer token', async () => {
    const authClient = new OAuth2Client();
    authClient.setCredentials({ access_token: 'ya29.loopback', expiry_date: Date.now() + 3_600_000 });
    const vertex = new GeminiSpeechEngine({
      vertex: { project: 'dt-project', location: 'europe-west4', authClient },
      model: 'gemini-test',
      baseUrl: server.baseUrl,
      maxOutputTokens: 2048,
      timeoutMs: 10_000,
    });
    server.replies.push({ text: answer([{ start: 0, end: 3, text: SENTENCE }]) });
    expect(await vertex.transcribe(wav, options())).toEqual([{ start: 0, end: 3, text: SENTENCE }]);
    expect(server.requests[0]).toMatchObject({
      path: '/v1beta1/projects/dt-project/locations/europe-west4/publishers/google/models/gemini-test:generateContent',
      authorization: 'Bearer ya29.loopback',
      apiKey: undefined,
    });
  });

  it('uses the shanka_samadhan prompt for its subtype and the general prompt for an unknown one', async () => {
    server.replies.push({ text: answer([]) }, { text: answer([]) });
    await engine.transcribe(wav, options({ contentSubtype: 'shanka_samadhan' }));
    await engine.transcribe(wav, options({ contentSubtype: 'no_such_subtype' }));
    expect(server.requests[0]?.body.contents[0]?.parts[0]?.text).toContain('shanka samadhan');
    expect(server.requests[1]?.body.contents[0]?.parts[0]?.text).toMatch(
      /^You are a speech-to-text engine\. /,
    );
  });

  it('turns 429 into a retryable rate limit that keeps Gemini’s retry delay', async () => {
    server.replies.push(rateLimitReply('7s'));
    const error = await failure(engine.transcribe(wav, options()));
    expect(error).toMatchObject({
      code: 'ENGINE_RATE_LIMITED',
      retryable: true,
      details: { engine: 'gemini', status: 429, retry_after_ms: 7000 },
    });
  });

  it('tells a server error, a refused key, a malformed answer and a withheld answer apart', async () => {
    server.replies.push({ status: 503, error: { code: 503, message: 'overloaded', status: 'UNAVAILABLE' } });
    expect(await failure(engine.transcribe(wav, options()))).toMatchObject({
      code: 'ENGINE_UPSTREAM_ERROR',
      retryable: true,
    });
    server.replies.push({
      status: 403,
      error: { code: 403, message: 'bad key', status: 'PERMISSION_DENIED' },
    });
    expect((await failure(engine.transcribe(wav, options()))).code).toBe('ENGINE_NOT_CONFIGURED');
    server.replies.push({ text: '{"segments": [{"start": 0, "end": 1.5, "text": "the river' });
    expect(await failure(engine.transcribe(wav, options()))).toMatchObject({
      code: 'ENGINE_RESPONSE_INVALID',
      message: 'Gemini answered with text that is not JSON.',
    });
    server.replies.push({ text: '', finishReason: 'SAFETY' });
    expect(await failure(engine.transcribe(wav, options()))).toMatchObject({
      code: 'ENGINE_RESPONSE_INVALID',
      message: 'Gemini gave no answer (finish reason SAFETY).',
      details: { finish_reason: 'SAFETY' },
    });
    server.replies.push({ text: JSON.stringify({ transcript: SENTENCE }) });
    expect((await failure(engine.transcribe(wav, options()))).code).toBe('ENGINE_RESPONSE_INVALID');
  });

  it('asks a truncated answer once more with the strict prompt, then refuses it with ENGINE_RESPONSE_TRUNCATED', async () => {
    const cut = '{"segments": [{"start": 0, "end": 1, "text": "the sea the sea the sea';
    server.replies.push(
      { text: cut, finishReason: 'MAX_TOKENS' },
      { text: answer([{ start: 0, end: 3, text: SENTENCE }]) },
    );
    expect(await engine.transcribe(wav, options())).toEqual([{ start: 0, end: 3, text: SENTENCE }]);
    expect(server.requests[1]?.body.contents[0]?.parts[0]?.text).toContain('repeated the same words');

    server.requests.length = 0;
    server.replies.push({ text: cut, finishReason: 'MAX_TOKENS' }, { text: cut, finishReason: 'MAX_TOKENS' });
    const error = await failure(engine.transcribe(wav, options()));
    expect(error).toMatchObject({
      code: 'ENGINE_RESPONSE_TRUNCATED',
      retryable: false,
      details: { engine: 'gemini', chunk_sec: 4, max_output_tokens: 2048 },
    });
    expect(server.requests).toHaveLength(2);
  });

  it('repairs small timestamp slips and refuses impossible timestamps', async () => {
    server.replies.push({
      text: answer([
        { start: 0, end: 1.8, text: 'the river carries' },
        // overlaps the previous segment by 0.3 s and runs 0.5 s past the 4 s clip
        { start: 1.5, end: 4.5, text: 'the old songs to the sea' },
        { start: 4.2, end: 4.2, text: '   ' },
      ]),
    });
    expect(await engine.transcribe(wav, options())).toEqual([
      { start: 0, end: 1.8, text: 'the river carries' },
      { start: 1.8, end: 4, text: 'the old songs to the sea' },
    ]);
    const impossible = [
      [{ start: 0, end: 90, text: 'minutes read as seconds' }],
      [{ start: 2, end: 1, text: 'ends before it starts' }],
      [{ start: -1, end: 1, text: 'negative' }],
      [
        { start: 2, end: 3.5, text: 'later' },
        { start: 0, end: 1, text: 'clock restarted' },
      ],
    ];
    for (const segments of impossible) {
      server.replies.push({ text: answer(segments) });
      const error = await failure(engine.transcribe(wav, options()));
      expect(error.code).toBe('ENGINE_RESPONSE_INVALID');
      expect(error.details).toMatchObject({ engine: 'gemini', chunk_sec: 4 });
    }
  });

  it('stops a request in flight on cancel', async () => {
    server.replies.push({ text: answer([{ start: 0, end: 1, text: 'late' }]), delayMs: 5_000 });
    const controller = new AbortController();
    const pending = engine.transcribe(wav, options({ signal: controller.signal }));
    setTimeout(() => controller.abort(), 100);
    expect((await failure(pending)).code).toBe('JOB_CANCELLED');
  });

  describe('inside the transcription pipeline', () => {
    const loop = Array.from({ length: 30 }, () => 'the sea').join(' ');
    const runPipeline = () => transcribeWithPipeline(engine, wav, dir, 'gemini-job');

    it('re-runs a chunk caught in a repetition loop once with the strict prompt', async () => {
      server.replies.push(
        { text: answer([{ start: 0, end: 3.5, text: loop }]) },
        { text: answer([{ start: 0, end: 3.5, text: SENTENCE }]) },
      );
      const result = await runPipeline();
      expect(server.requests).toHaveLength(2);
      expect(server.requests[1]?.body.contents[0]?.parts[0]?.text).toContain('repeated the same words');
      expect(String(result.outputs.txt)).toContain(SENTENCE);
      expect(String(result.outputs.txt)).not.toContain('the sea the sea the sea');
      expect(result.engine).toBe('gemini gemini-test');
    });

    it('collapses a loop that the strict re-run repeats, and flags its segment', async () => {
      server.replies.push(
        { text: answer([{ start: 0, end: 3.5, text: `the river carries ${loop}` }]) },
        { text: answer([{ start: 0, end: 3.5, text: `the river carries ${loop}` }]) },
      );
      const result = await runPipeline();
      expect(server.requests).toHaveLength(2);
      const txt = String(result.outputs.txt);
      expect(txt).toContain('the river carries the sea');
      expect(txt).not.toContain('the sea the sea');
      const json = JSON.parse(String(result.outputs.json)) as {
        segments: Array<{ low_confidence: boolean; reasons: string[] }>;
      };
      expect(json.segments.some((s) => s.low_confidence && s.reasons.includes('repetition'))).toBe(true);
    });
  });
});
