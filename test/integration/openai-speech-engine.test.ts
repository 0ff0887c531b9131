import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AppError } from '../../src/contract/index.js';
import { OpenAiSpeechEngine } from '../../src/engines/speech/openai-engine.js';
import { makeSpokenWav } from '../helpers/make-media-fixtures.js';
import {
  type OpenAiLoopbackServer,
  startOpenAiLoopbackServer,
  verboseJson,
} from '../helpers/openai-loopback-server.js';
import { transcribeWithPipeline } from '../helpers/run-transcription-pipeline.js';

// The real `openai` SDK against a loopback server that speaks the OpenAI wire format.
let server: OpenAiLoopbackServer;
let dir: string;
let wav: string;
let engine: OpenAiSpeechEngine;

const options = (signal = new AbortController().signal) => ({ language: 'eng', signal });

async function codeOf(promise: Promise<unknown>): Promise<string> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(AppError);
  return (error as AppError).code;
}

beforeAll(async () => {
  server = await startOpenAiLoopbackServer();
  dir = await mkdtemp(path.join(os.tmpdir(), 'dt-openai-'));
  wav = await makeSpokenWav(dir, 'the river carries the old songs to the sea');
  engine = new OpenAiSpeechEngine({
    baseUrl: server.baseUrl,
    apiKey: 'sk-test',
    model: 'whisper-1',
    timeoutMs: 10_000,
  });
});
afterAll(async () => {
  await server?.close();
  await rm(dir, { recursive: true, force: true });
});

describe('OpenAI-compatible speech engine', () => {
  it('sends the audio as verbose_json with segment timestamps and reads segments with confidences', async () => {
    server.answer({
      status: 200,
      body: verboseJson([
        { start: 0, end: 1.5, text: ' the river carries', avg_logprob: -0.1 },
        { start: 1.5, end: 3, text: ' the old songs to the sea', avg_logprob: -0.7 },
      ]),
    });
    const segments = await engine.transcribe(wav, options());
    expect(segments).toEqual([
      { start: 0, end: 1.5, text: 'the river carries', confidence: expect.closeTo(Math.exp(-0.1), 5) },
      { start: 1.5, end: 3, text: 'the old songs to the sea', confidence: expect.closeTo(Math.exp(-0.7), 5) },
    ]);
    const request = server.requests.at(-1);
    expect(request).toMatchObject({ method: 'POST', url: '/v1/audio/transcriptions' });
    expect(request?.headers.authorization).toBe('Bearer sk-test');
    expect(request?.fields).toMatchObject({
      model: 'whisper-1',
      response_format: 'verbose_json',
      language: 'en',
    });
    expect(request?.fields['timestamp_granularities[]']).toBe('segment');
    expect(request?.fileBytes).toBeGreaterThan(1000);
    expect(await engine.version()).toBe(`whisper-1 via 127.0.0.1:${new URL(server.baseUrl).port}`);
  });

  it('turns 429 into a retryable rate-limit error that keeps the Retry-After', async () => {
    server.answer({
      status: 429,
      headers: { 'retry-after': '7' },
      body: JSON.stringify({ error: { message: 'slow down' } }),
    });
    const error = await engine.transcribe(wav, options()).catch((e: unknown) => e);
    expect(error).toMatchObject({
      code: 'ENGINE_RATE_LIMITED',
      retryable: true,
      details: { retry_after_sec: 7 },
    });
  });

  it('tells a server error, a refused key, a malformed answer and an answer without timestamps apart', async () => {
    server.answer({ status: 503, body: JSON.stringify({ error: { message: 'overloaded' } }) });
    expect(await codeOf(engine.transcribe(wav, options()))).toBe('ENGINE_UPSTREAM_ERROR');
    server.answer({ status: 401, body: JSON.stringify({ error: { message: 'bad key' } }) });
    expect(await codeOf(engine.transcribe(wav, options()))).toBe('ENGINE_NOT_CONFIGURED');
    server.answer({ status: 200, body: '{"text": "the river' });
    expect(await codeOf(engine.transcribe(wav, options()))).toBe('ENGINE_RESPONSE_INVALID');
    server.answer({ status: 200, body: JSON.stringify({ text: 'the river carries the old songs' }) });
    expect(await codeOf(engine.transcribe(wav, options()))).toBe('ENGINE_RESPONSE_INVALID');
  });

  it('stops a request in flight on cancel', async () => {
    server.answer({ status: 200, delayMs: 5_000, body: verboseJson([{ start: 0, end: 1, text: 'late' }]) });
    const controller = new AbortController();
    const pending = engine.transcribe(wav, options(controller.signal));
    setTimeout(() => controller.abort(), 100);
    expect(await codeOf(pending)).toBe('JOB_CANCELLED');
  });

  it('runs inside the transcription pipeline, which re-runs a chunk caught in a repetition loop', async () => {
    const loop = Array.from({ length: 30 }, () => 'the sea').join(' ');
    server.answer(
      { status: 200, body: verboseJson([{ start: 0, end: 3, text: loop }]) },
      {
        status: 200,
        body: verboseJson([{ start: 0, end: 3, text: 'the river carries the old songs to the sea' }]),
      },
    );
    const before = server.requests.length;
    const result = await transcribeWithPipeline(engine, wav, dir, 'openai-job');
    expect(server.requests.length - before).toBe(2);
    // The re-run is not the same request again: it turns off whisper's text carry-over.
    const [first, rerun] = server.requests.slice(before);
    expect(first?.fields.max_context).toBeUndefined();
    expect(rerun?.fields).toMatchObject({ max_context: '0', temperature: '0', model: 'whisper-1' });
    expect(String(result.outputs.txt)).toContain('the river carries the old songs to the sea');
    expect(String(result.outputs.txt)).not.toContain('the sea the sea the sea');
    expect(result.engine).toMatch(/^openai/);
  });

  it('asks a strict re-run without carried-over context, and again without it where the server refuses the field', async () => {
    const answer = { status: 200, body: verboseJson([{ start: 0, end: 3, text: 'the river carries' }]) };
    server.answer(answer);
    const before = server.requests.length;
    await engine.transcribe(wav, { ...options(), strict: true });
    expect(server.requests.slice(before).map((r) => r.fields.max_context)).toEqual(['0']);

    server.answer(
      {
        status: 400,
        body: JSON.stringify({ error: { message: 'Unrecognized request argument: max_context' } }),
      },
      answer,
    );
    const again = server.requests.length;
    const segments = await engine.transcribe(wav, { ...options(), strict: true });
    expect(segments.map((s) => s.text)).toEqual(['the river carries']);
    expect(server.requests.slice(again).map((r) => r.fields.max_context)).toEqual(['0', undefined]);

    // A normal run that the server refuses is not asked again.
    server.answer({ status: 400, body: JSON.stringify({ error: { message: 'bad audio' } }) });
    const normal = server.requests.length;
    expect(await codeOf(engine.transcribe(wav, options()))).toBe('TRANSCRIPTION_ENGINE_FAILED');
    expect(server.requests.length - normal).toBe(1);
  });
});
