import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FileOutcome } from '../../src/cli/run-folder-submit.js';
import type { Job, JobList } from '../../src/contract/index.js';
import { makeManyPagePdf, makeScannedPng, makeTwoPagePdf } from '../helpers/make-document-fixtures.js';
import { makeSpokenWav } from '../helpers/make-media-fixtures.js';
import { OidcLoopbackIssuer } from '../helpers/oidc-loopback-issuer.js';
import { startTestService, type TestService } from '../helpers/test-service.js';
import { TINY_PNG } from '../helpers/tiny-files.js';

// The built bin (`npm run build:server` first), as users run it, against the real service with
// tesseract and pocketsphinx on a small folder of mixed files.
const BIN = path.resolve('dist/cli/main.js');
let svc: TestService;
let dir: string;
let archive: string;

interface CliRun {
  code: number | null;
  stdout: string;
  stderr: string;
}

function runCli(args: readonly string[], env: Record<string, string> = {}): Promise<CliRun> {
  const child = spawn(process.execPath, [BIN, ...args], {
    env: { ...process.env, DT_SERVER: '', DT_API_KEY: '', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => {
    stdout += chunk.toString('utf8');
  });
  child.stderr.on('data', (chunk: Buffer) => {
    stderr += chunk.toString('utf8');
  });
  return new Promise((resolve) => child.on('close', (code) => resolve({ code, stdout, stderr })));
}

interface SubmitReport {
  files: FileOutcome[];
  summary: { files: number; succeeded: number; failed: number; skipped: number };
}

async function historyTotal(): Promise<number> {
  return ((await (await fetch(`${svc.url}/v1/jobs`)).json()) as JobList).total;
}

beforeAll(async () => {
  await stat(BIN).catch(() => {
    throw new Error('dist/cli/main.js is missing: run `npm run build:server` before this test');
  });
  svc = await startTestService('cli-folder', { OCR_SEARCHABLE_PDF: 'false' });
  dir = await mkdtemp(path.join(os.tmpdir(), 'dt-cli-folder-'));
  archive = path.join(dir, 'archive');
  const fixtures = path.join(dir, 'fixtures');
  await mkdir(path.join(archive, 'book', 'chapter 1'), { recursive: true });
  await mkdir(path.join(archive, 'talks'), { recursive: true });
  await mkdir(fixtures);
  await rename((await makeTwoPagePdf(fixtures)).path, path.join(archive, 'book', 'two-pages.pdf'));
  await rename((await makeScannedPng(fixtures)).path, path.join(archive, 'book', 'chapter 1', 'scan.png'));
  await rename(
    await makeSpokenWav(fixtures, 'the river flows past the old temple'),
    path.join(archive, 'talks', 'river.wav'),
  );
  await writeFile(path.join(archive, 'notes.txt'), randomBytes(4096));
  await writeFile(path.join(archive, '.DS_Store'), randomBytes(64));
});

afterAll(async () => {
  await svc?.close();
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe('doc-transcribe submit on a folder', () => {
  let out: string;
  let first: SubmitReport;
  const submitArchive = (...extra: string[]) =>
    runCli(['--server', svc.url, 'submit', archive, '--out', out, '--format', 'txt,json,srt', ...extra]);

  it('submits every file of the tree, waits, writes each result next to its relative name, and exits 3 for a partial failure', async () => {
    out = path.join(dir, 'out');
    const run = await submitArchive('--json', '--wait');
    expect(run.stderr).not.toContain('Error:');
    expect(run.code).toBe(3);
    first = JSON.parse(run.stdout) as SubmitReport;
    const byInput = new Map(first.files.map((file) => [file.input, file]));
    expect([...byInput.keys()].sort()).toEqual(
      ['book/chapter 1/scan.png', 'book/two-pages.pdf', 'notes.txt', 'talks/river.wav'].sort(),
    );
    expect(first.summary).toMatchObject({ files: 4, succeeded: 3, failed: 1, skipped: 0 });

    expect(byInput.get('notes.txt')).toMatchObject({
      status: 'REFUSED',
      error_code: 'UNSUPPORTED_MEDIA_TYPE',
      job_id: null,
      ok: false,
    });
    expect(byInput.get('book/two-pages.pdf')).toMatchObject({
      status: 'COMPLETED',
      outputs: ['book/two-pages.txt', 'book/two-pages.json'],
      ok: true,
    });
    expect(byInput.get('book/chapter 1/scan.png')?.outputs).toEqual([
      'book/chapter 1/scan.txt',
      'book/chapter 1/scan.json',
    ]);
    expect(byInput.get('talks/river.wav')?.outputs).toEqual([
      'talks/river.txt',
      'talks/river.json',
      'talks/river.srt',
    ]);

    expect(await readFile(path.join(out, 'book/two-pages.txt'), 'utf8')).toContain('archive keeps old books');
    expect((await readFile(path.join(out, 'book/chapter 1/scan.txt'), 'utf8')).toLowerCase()).toContain(
      'volunteers',
    );
    const pdfJson = JSON.parse(await readFile(path.join(out, 'book/two-pages.json'), 'utf8')) as unknown;
    expect(pdfJson).toBeTypeOf('object');
    expect(await readFile(path.join(out, 'talks/river.srt'), 'utf8')).toMatch(/00:00:0\d,\d{3} --> /);
    // The hidden file was never sent, and the history holds the three jobs.
    expect(await historyTotal()).toBe(3);
    const state = JSON.parse(await readFile(path.join(out, '.doc-transcribe-state.json'), 'utf8')) as {
      files: Record<string, { status: string; inputs: string[] }>;
    };
    expect(Object.values(state.files).map((entry) => entry.status)).toEqual([
      'COMPLETED',
      'COMPLETED',
      'COMPLETED',
    ]);
  });

  it('skips finished files on a re-run without sending anything for them', async () => {
    const run = await submitArchive('--json');
    expect(run.code).toBe(3);
    const report = JSON.parse(run.stdout) as SubmitReport;
    const finished = report.files.filter((file) => file.input !== 'notes.txt');
    expect(finished.every((file) => file.skipped && file.ok)).toBe(true);
    expect(finished.map((file) => file.job_id).sort()).toEqual(
      first.files
        .filter((file) => file.input !== 'notes.txt')
        .map((file) => file.job_id)
        .sort(),
    );
    expect(await historyTotal()).toBe(3);
  });

  it('prints one line per change when stdout is not a terminal, and exits 0 once the refused file is excluded', async () => {
    const run = await submitArchive('--exclude', '*.txt');
    expect(run.code).toBe(0);
    expect(run.stdout).toContain('book/two-pages.pdf\tskipped');
    expect(run.stdout).toContain('3 files: 3 ok (3 already done), 0 failed');
  });

  it('makes no second job when the state file is lost after the uploads (the content hash is the Idempotency-Key)', async () => {
    await rm(path.join(out, '.doc-transcribe-state.json'));
    await rm(path.join(out, 'talks/river.srt'));
    const run = await submitArchive('--json', '--exclude', 'notes.txt');
    expect(run.code).toBe(0);
    const report = JSON.parse(run.stdout) as SubmitReport;
    expect(report.files.every((file) => file.reused && !file.skipped)).toBe(true);
    expect(await readFile(path.join(out, 'talks/river.srt'), 'utf8')).toContain('-->');
    expect(await historyTotal()).toBe(3);
  });

  it('re-attaches to a job submitted by an earlier run that did not wait, instead of submitting again', async () => {
    const later = path.join(dir, 'later');
    await mkdir(later);
    await rename((await makeTwoPagePdf(path.join(dir, 'fixtures'))).path, path.join(later, 'more.pdf'));
    const stateFile = path.join(dir, 'later-state.json');
    const submitted = await runCli(['--server', svc.url, '--json', 'submit', later, '--state', stateFile]);
    expect(submitted.code).toBe(0);
    const [queued] = (JSON.parse(submitted.stdout) as SubmitReport).files;
    expect(queued?.job_id).toBeTruthy();

    const laterOut = path.join(dir, 'later-out');
    const attached = await runCli([
      '--server',
      svc.url,
      '--json',
      'submit',
      later,
      '--state',
      stateFile,
      '--out',
      laterOut,
    ]);
    expect(attached.code).toBe(0);
    const [done] = (JSON.parse(attached.stdout) as SubmitReport).files;
    expect(done).toMatchObject({
      job_id: queued?.job_id,
      status: 'COMPLETED',
      reused: false,
      outputs: ['more.txt'],
    });
    expect(await readFile(path.join(laterOut, 'more.txt'), 'utf8')).toContain('archive keeps old books');
    expect(await historyTotal()).toBe(4);
  });

  it('exits 1 when every file fails, showing the code, message and request id', async () => {
    const run = await runCli(['--server', svc.url, 'submit', path.join(archive, 'notes.txt')]);
    expect(run.code).toBe(1);
    expect(run.stdout).toContain('notes.txt: UNSUPPORTED_MEDIA_TYPE:');
    const status = await runCli(['--server', svc.url, 'status', '0190a3f2-0000-7000-8000-000000000000']);
    expect(status.code).toBe(1);
    expect(status.stderr).toMatch(/JOB_NOT_FOUND: .+ \(request id [\w.:-]+\)/);
  });

  it('shows, lists and downloads jobs, and refuses to cancel a finished one', async () => {
    const jobId = first.files.find((file) => file.input === 'talks/river.wav')?.job_id ?? '';
    const status = await runCli(['--server', svc.url, '--json', 'status', jobId]);
    expect(status.code).toBe(0);
    expect((JSON.parse(status.stdout) as Job).status).toBe('COMPLETED');

    const list = await runCli([
      '--server',
      svc.url,
      '--json',
      'list',
      '--type',
      'TRANSCRIPTION',
      '--limit',
      '5',
    ]);
    expect(list.code).toBe(0);
    expect((JSON.parse(list.stdout) as JobList).items.map((job) => job.job_id)).toEqual([jobId]);
    expect(list.stdout).not.toContain('more.pdf');

    const downloads = path.join(dir, 'downloads');
    const download = await runCli([
      '--server',
      svc.url,
      'download',
      jobId,
      '--format',
      'vtt,txt',
      '--out',
      downloads,
    ]);
    expect(download.code).toBe(0);
    expect(await readFile(path.join(downloads, 'river.vtt'), 'utf8')).toMatch(/^WEBVTT/);

    const cancel = await runCli(['--server', svc.url, 'cancel', jobId]);
    expect(cancel.code).toBe(1);
    expect(cancel.stderr).toContain('JOB_NOT_CANCELLABLE');
  });

  it('exits 4 when the server cannot be reached', async () => {
    const port = await new Promise<number>((resolve) => {
      const server = createServer().listen(0, '127.0.0.1', () => {
        const address = server.address();
        server.close(() => resolve(typeof address === 'object' && address ? address.port : 0));
      });
    });
    const run = await runCli(['--json', 'list'], { DT_SERVER: `http://127.0.0.1:${port}` });
    expect(run.code).toBe(4);
    expect((JSON.parse(run.stdout) as { error: { code: string } }).error.code).toBe('SERVER_UNREACHABLE');
  });

  it('exits 2 for a usage mistake, before sending anything', async () => {
    expect((await runCli(['--server', svc.url, 'submit', archive, '--format', 'docx'])).code).toBe(2);
    expect((await runCli(['--server', svc.url, 'submit', path.join(dir, 'no-such-folder')])).code).toBe(2);
    expect((await runCli(['--server', 'ftp://example.org', 'list'])).code).toBe(2);
  });
});

describe('doc-transcribe submit with job options', () => {
  /** `submit <file> <options…> --json` with a state file of its own; the job it created. */
  const submitOne = async (file: string, ...options: string[]): Promise<Job> => {
    const state = path.join(dir, `options-${path.basename(file)}-state.json`);
    const run = await runCli(['--server', svc.url, '--json', 'submit', file, ...options, '--state', state]);
    expect(run.stderr).not.toContain('Error:');
    expect(run.code).toBe(0);
    const [created] = (JSON.parse(run.stdout) as SubmitReport).files;
    expect(created?.job_id).toBeTruthy();
    return (await (await fetch(`${svc.url}/v1/jobs/${created?.job_id}`)).json()) as Job;
  };

  it('submits a recording with --type, --language and --subtype, and the job carries them', async () => {
    const wav = await makeSpokenWav(path.join(dir, 'fixtures'), 'a short talk about patience');
    const job = await submitOne(wav, '--type', 'TRANSCRIPTION', '--language', 'en', '--subtype', 'pravachan');
    expect(job).toMatchObject({
      job_type: 'TRANSCRIPTION',
      language: 'en',
      content_subtype: 'pravachan',
      input_filename: path.basename(wav),
    });
  });

  it('submits an image with --engine tesseract and --language eng, and the job carries them', async () => {
    const png = path.join(dir, 'fixtures', 'options-dot.png');
    await writeFile(png, TINY_PNG);
    const job = await submitOne(png, '--engine', 'tesseract', '--language', 'eng');
    expect(job).toMatchObject({
      job_type: 'OCR',
      language: 'eng',
      content_subtype: 'general',
      input_filename: 'options-dot.png',
      ocr_options: { engine: 'tesseract' },
    });
  });
});

describe('doc-transcribe with an API key, against a service with an identity provider', () => {
  let issuer: OidcLoopbackIssuer;
  let secured: TestService;
  let key: string;

  beforeAll(async () => {
    issuer = await new OidcLoopbackIssuer().start();
    // Role api: jobs stay QUEUED, enough for submitting, cancelling and retrying. The Gemini key is
    // never used (nothing runs); it makes gemini an OCR engine a retry may name.
    secured = await startTestService(
      'cli-api-key',
      issuer.env({
        SERVICE_ROLE: 'api',
        AUTH_ALLOWED_DOMAINS: 'example.org',
        GEMINI_API_KEY: 'test-key-not-used',
      }),
    );
    const response = await fetch(`${secured.url}/v1/api-keys`, {
      method: 'POST',
      headers: { authorization: `Bearer ${await issuer.mint('alice')}`, 'content-type': 'application/json' },
      body: JSON.stringify({ name: 'cli test' }),
    });
    key = ((await response.json()) as { key: string }).key;
  });
  afterAll(async () => {
    await secured?.close();
    await issuer?.close();
  });

  it('sends the key from DT_API_KEY or --api-key, and exits 5 when it is refused', async () => {
    const file = path.join(dir, 'page.png');
    await writeFile(file, TINY_PNG);
    const submit = await runCli(['--json', 'submit', file], { DT_SERVER: secured.url, DT_API_KEY: key });
    expect(submit.code).toBe(0);
    const [submitted] = (JSON.parse(submit.stdout) as SubmitReport).files;
    expect(submitted).toMatchObject({ status: 'QUEUED', ok: true });

    const cancel = await runCli([
      '--server',
      secured.url,
      '--api-key',
      key,
      '--json',
      'cancel',
      submitted?.job_id ?? '',
    ]);
    expect(cancel.code).toBe(0);
    expect((JSON.parse(cancel.stdout) as Job).status).toBe('CANCELLED');
    const retry = await runCli([
      '--server',
      secured.url,
      '--api-key',
      key,
      '--json',
      'retry',
      '--engine',
      'gemini',
      '--subtype',
      'pravachan',
      submitted?.job_id ?? '',
    ]);
    expect(retry.code).toBe(0);
    expect(JSON.parse(retry.stdout) as Job).toMatchObject({
      retry_of_job_id: submitted?.job_id,
      content_subtype: 'pravachan',
      ocr_options: { engine: 'gemini' },
    });

    const refused = await runCli(['--server', secured.url, '--api-key', 'dt_not_a_real_key', 'list']);
    expect(refused.code).toBe(5);
    expect(refused.stderr).toMatch(/AUTH_API_KEY_INVALID: .+ \(request id /);
    const anonymous = await runCli(['--server', secured.url, 'list']);
    expect(anonymous.code).toBe(5);
    expect(anonymous.stderr).toContain('AUTH_REQUIRED');
  });

  it('reports a job an earlier run saw end without result, sends nothing for it again, and runs it again with --retry-failed', async () => {
    const folder = path.join(dir, 'to-cancel');
    await mkdir(folder);
    // Other bytes than the previous test's page, whose (cancelled) job the same Idempotency-Key would replay.
    await writeFile(path.join(folder, 'page.png'), Buffer.concat([TINY_PNG, Buffer.from('another page')]));
    const state = path.join(dir, 'to-cancel-state.json');
    const env = { DT_SERVER: secured.url, DT_API_KEY: key };
    const submit = (...extra: string[]) =>
      runCli(['--json', 'submit', folder, '--state', state, ...extra], env);
    const total = async () =>
      (
        (await (
          await fetch(`${secured.url}/v1/jobs`, { headers: { authorization: `Bearer ${key}` } })
        ).json()) as JobList
      ).total;

    const queued = (JSON.parse((await submit()).stdout) as SubmitReport).files[0];
    expect(queued?.status).toBe('QUEUED');
    expect((await runCli(['cancel', queued?.job_id ?? ''], env)).code).toBe(0);
    const before = await total();

    // Re-attached with --wait: the job is found CANCELLED, which is a failure of that file.
    const seen = await submit('--wait');
    expect(seen.code).toBe(1);
    expect((JSON.parse(seen.stdout) as SubmitReport).files[0]).toMatchObject({
      job_id: queued?.job_id,
      status: 'CANCELLED',
      ok: false,
    });
    const again = await submit();
    expect(again.code).toBe(1);
    expect((JSON.parse(again.stdout) as SubmitReport).files[0]).toMatchObject({
      job_id: queued?.job_id,
      skipped: true,
    });
    expect(await total()).toBe(before);

    const retried = await submit('--retry-failed');
    expect(retried.code).toBe(0);
    const rerun = (JSON.parse(retried.stdout) as SubmitReport).files[0];
    expect(rerun?.job_id).not.toBe(queued?.job_id);
    const job = JSON.parse((await runCli(['--json', 'status', rerun?.job_id ?? ''], env)).stdout) as Job;
    expect(job.retry_of_job_id).toBe(queued?.job_id);
    expect(await total()).toBe(before + 1);
  });
});

describe('doc-transcribe submit on a folder larger than the active-jobs quota', () => {
  let small: TestService;
  beforeAll(async () => {
    small = await startTestService('cli-quota', { QUOTA_ACTIVE_JOBS: '1', OCR_SEARCHABLE_PDF: 'false' });
  });
  afterAll(() => small?.close());

  it('waits for its earlier jobs to finish and submits the rest, instead of failing them', async () => {
    const folder = path.join(dir, 'quota');
    await mkdir(folder);
    for (const [index, name] of ['one.pdf', 'two.pdf', 'three.pdf'].entries()) {
      await rename(await makeManyPagePdf(folder, index + 1), path.join(folder, name));
    }
    const run = await runCli(['--server', small.url, 'submit', folder, '--out', path.join(dir, 'quota-out')]);
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/\twaiting\t/);
    expect(run.stdout).toContain('3 files: 3 ok, 0 failed');
    for (const name of ['one', 'two', 'three']) await stat(path.join(dir, 'quota-out', `${name}.txt`));
  });
});
