import { spawn } from 'node:child_process';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { Job, PrecheckResult, Problem } from '../../src/contract/index.js';
import { makeSpokenWav } from '../helpers/make-media-fixtures.js';
import {
  type OpenAiLoopbackServer,
  startOpenAiLoopbackServer,
  verboseJson,
} from '../helpers/openai-loopback-server.js';
import { startTestService, submitFile, type TestService, waitForJob } from '../helpers/test-service.js';

// A pocketsphinx deployment that also has an OpenAI-compatible endpoint (a loopback server) configured:
// each recording may name its speech engine (`transcription_engine`), validated against what is offered.
const SENTENCE = 'the river carries the old songs to the sea';
const OPENAI_TEXT = 'an answer only the loopback server gives';
let svc: TestService;
let server: OpenAiLoopbackServer;
let dir: string;
let audio: Buffer;

const submit = (fields: Record<string, string>) =>
  submitFile(
    svc.url,
    { name: 'talk.wav', bytes: audio },
    { job_type: 'TRANSCRIPTION', language: 'en', ...fields },
  );

async function submitAndWait(fields: Record<string, string>): Promise<Job> {
  const response = await submit(fields);
  expect(response.status).toBe(201);
  return waitForJob(svc.url, ((await response.json()) as Job).job_id);
}

const retry = (jobId: string, body: Record<string, unknown>) =>
  fetch(`${svc.url}/v1/jobs/${jobId}/retry`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });

async function storedInputs(): Promise<string[]> {
  const root = path.join(svc.dataDir, 'storage', 'jobs');
  const entries = await readdir(root, { recursive: true }).catch(() => [] as string[]);
  return entries.filter((entry) => entry.endsWith(`${path.sep}input`));
}

const text = async (jobId: string) => (await fetch(`${svc.url}/v1/jobs/${jobId}/result?format=txt`)).text();

beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'dt-speech-per-job-'));
  server = await startOpenAiLoopbackServer();
  audio = await readFile(await makeSpokenWav(dir, SENTENCE));
  svc = await startTestService('speech-per-job', {
    TRANSCRIPTION_ENGINE: 'pocketsphinx',
    OPENAI_API_KEY: 'test-key',
    OPENAI_BASE_URL: server.baseUrl,
    OPENAI_TRANSCRIPTION_MODEL: 'whisper-loopback',
  });
});
beforeEach(() => {
  server.requests.length = 0;
});
afterAll(async () => {
  await svc?.close();
  await server?.close();
  await rm(dir, { recursive: true, force: true });
});

describe('a speech engine chosen per job', () => {
  it('lists the offered engines in GET /v1/config: the default and every configured one', async () => {
    const config = (await (await fetch(`${svc.url}/v1/config`)).json()) as {
      engines: { ocr: string[]; transcription: string[]; default_ocr: string; default_transcription: string };
    };
    expect(config.engines).toEqual({
      ocr: ['tesseract'],
      transcription: ['pocketsphinx', 'openai'],
      default_ocr: 'tesseract',
      default_transcription: 'pocketsphinx',
    });
  });

  it('transcribes a job naming openai with it, and one naming none with the default', async () => {
    server.answer({ status: 200, body: verboseJson([{ start: 0.1, end: 2.4, text: OPENAI_TEXT }]) });
    const chosen = await submitAndWait({ transcription_engine: 'openai' });
    expect(chosen).toMatchObject({ status: 'COMPLETED', transcription_options: { engine: 'openai' } });
    expect(chosen.engine).toMatch(/^openai /);
    expect(server.requests).toHaveLength(1);
    expect(server.requests[0]?.fields.model).toBe('whisper-loopback');
    expect(await text(chosen.job_id)).toContain(OPENAI_TEXT);

    const plain = await submitAndWait({});
    expect(plain.status).toBe('COMPLETED');
    expect(plain.engine).toMatch(/^pocketsphinx /);
    expect(server.requests).toHaveLength(1);
    expect(await text(plain.job_id)).not.toContain(OPENAI_TEXT);
  });

  it('refuses an engine that is not configured here with 400 ENGINE_NOT_OFFERED and keeps nothing', async () => {
    const before = await storedInputs();
    const response = await submit({ transcription_engine: 'whisper' });
    expect(response.status).toBe(400);
    const problem = (await response.json()) as Problem;
    expect(problem.error_code).toBe('ENGINE_NOT_OFFERED');
    expect(problem.detail).toContain('pocketsphinx, openai');
    expect(problem.errors?.[0]?.field).toBe('transcription_engine');
    expect(await storedInputs()).toEqual(before);
  });

  it('retries a job with another engine, back to the default with null, and refuses one not offered', async () => {
    // The loopback server holds its answer: the job is cancelled while openai is reading the chunk.
    server.answer({ status: 200, delayMs: 60_000, body: verboseJson([{ start: 0, end: 1, text: 'late' }]) });
    const response = await submit({ transcription_engine: 'openai' });
    const submitted = (await response.json()) as Job;
    while (server.requests.length === 0) await sleep(50);
    await fetch(`${svc.url}/v1/jobs/${submitted.job_id}/cancel`, { method: 'POST' });
    const cancelled = await waitForJob(svc.url, submitted.job_id);
    expect(cancelled.status).toBe('CANCELLED');

    const refused = await retry(cancelled.job_id, { transcription_engine: 'gemini' });
    expect(refused.status).toBe(400);
    expect(((await refused.json()) as Problem).error_code).toBe('ENGINE_NOT_OFFERED');

    server.requests.length = 0;
    const back = await retry(cancelled.job_id, { transcription_engine: null });
    expect(back.status).toBe(201);
    const byDefault = await waitForJob(svc.url, ((await back.json()) as Job).job_id);
    expect(byDefault.status).toBe('COMPLETED');
    expect(byDefault.engine).toMatch(/^pocketsphinx /);
    expect(byDefault.transcription_options?.engine).toBeUndefined();
    expect(server.requests).toHaveLength(0);

    server.answer({ status: 200, body: verboseJson([{ start: 0.1, end: 2.4, text: OPENAI_TEXT }]) });
    const again = await retry(cancelled.job_id, { transcription_engine: 'openai' });
    expect(again.status).toBe(201);
    const byOpenai = await waitForJob(svc.url, ((await again.json()) as Job).job_id);
    expect(byOpenai).toMatchObject({ status: 'COMPLETED', transcription_options: { engine: 'openai' } });
    expect(byOpenai.engine).toMatch(/^openai /);
    expect(await text(byOpenai.job_id)).toContain(OPENAI_TEXT);
  });

  it('prechecks a recording with the engine it would name: estimate, paid engine, block', async () => {
    const precheck = (engine?: string) =>
      fetch(`${svc.url}/v1/intake/precheck`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ filename: 'talk.wav', size_bytes: audio.length, duration_sec: 120, engine }),
      });
    const paid = (await (await precheck('openai')).json()) as PrecheckResult;
    expect(paid.estimate).toMatchObject({ engine: 'openai', cost_band: 'paid' });
    expect(paid.warnings.map((w) => w.code)).toContain('PAID_ENGINE');
    const plain = (await (await precheck()).json()) as PrecheckResult;
    expect(plain.estimate).toMatchObject({ engine: 'pocketsphinx', cost_band: 'none' });
    // An engine not offered here: the upload would be refused, so the precheck blocks it.
    const refused = await precheck('whisper');
    expect(refused.status).toBe(200);
    const blocked = (await refused.json()) as PrecheckResult;
    expect(blocked.decision).toBe('block');
    expect(blocked.blocks).toEqual([
      {
        code: 'ENGINE_NOT_OFFERED',
        message: 'whisper is not offered here; this server offers pocketsphinx, openai.',
      },
    ]);
  });

  it('lets the CLI name the speech engine: submit --speech-engine, retry --speech-engine default', async () => {
    // The built CLI (npm run build) against this service.
    const cli = (args: string[]) =>
      new Promise<{ code: number | null; stdout: string }>((resolve) => {
        const child = spawn(
          process.execPath,
          [path.resolve('dist/cli/main.js'), '--server', svc.url, ...args],
          {
            env: { ...process.env, DT_SERVER: '', DT_API_KEY: '' },
            stdio: ['ignore', 'pipe', 'pipe'],
          },
        );
        let stdout = '';
        child.stdout.on('data', (chunk: Buffer) => {
          stdout += chunk.toString('utf8');
        });
        child.on('close', (code) => resolve({ code, stdout }));
      });
    const file = path.join(dir, 'cli-talk.wav');
    await writeFile(file, audio);
    server.requests.length = 0;
    server.answer({ status: 200, body: verboseJson([{ start: 0.1, end: 2.4, text: OPENAI_TEXT }]) });
    const submitted = await cli(['--json', 'submit', file, '--speech-engine', 'openai', '--wait']);
    expect(submitted.code).toBe(0);
    const report = JSON.parse(submitted.stdout) as { files: Array<{ job_id: string }> };
    const job = await waitForJob(svc.url, report.files[0]?.job_id ?? '');
    expect(job).toMatchObject({ status: 'COMPLETED', transcription_options: { engine: 'openai' } });
    expect(server.requests).toHaveLength(1);

    const refused = await cli(['submit', file, '--speech-engine', 'whisper']);
    expect(refused.code).not.toBe(0);

    server.answer({ status: 200, delayMs: 60_000, body: verboseJson([{ start: 0, end: 1, text: 'late' }]) });
    const pending = (await (await submit({ transcription_engine: 'openai' })).json()) as Job;
    while (server.requests.length < 2) await sleep(50);
    await fetch(`${svc.url}/v1/jobs/${pending.job_id}/cancel`, { method: 'POST' });
    await waitForJob(svc.url, pending.job_id);
    const retried = await cli(['--json', 'retry', pending.job_id, '--speech-engine', 'default']);
    expect(retried.code).toBe(0);
    const again = await waitForJob(svc.url, (JSON.parse(retried.stdout) as Job).job_id);
    expect(again).toMatchObject({ status: 'COMPLETED', retry_of_job_id: pending.job_id });
    expect(again.engine).toMatch(/^pocketsphinx /);
    expect(again.transcription_options?.engine).toBeUndefined();
  });
});
