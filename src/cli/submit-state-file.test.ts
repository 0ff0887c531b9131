import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fieldsFingerprint, idempotencyKeyOf } from './run-folder-submit.js';
import { StateFileError, type SubmitStateEntry, SubmitStateFile } from './submit-state-file.js';

const SHA_A = 'a'.repeat(64);
const SHA_B = 'b'.repeat(64);

function entry(jobId: string, status: SubmitStateEntry['status']): Omit<SubmitStateEntry, 'updated_at'> {
  return {
    server: 'http://127.0.0.1:8080',
    fields_fingerprint: 'f'.repeat(16),
    job_id: jobId,
    status,
    error_code: null,
    error_message: null,
    available_formats: status === 'COMPLETED' ? ['txt', 'json'] : [],
    written: status === 'COMPLETED' ? ['book.txt'] : [],
    inputs: ['book.pdf'],
  };
}

describe('SubmitStateFile', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'dt-state-'));
  });
  afterAll(() => rm(dir, { recursive: true, force: true }));

  it('starts empty when there is no file yet, and writes nothing until something is recorded', async () => {
    const state = await SubmitStateFile.open(path.join(dir, 'fresh', 'state.json'));
    expect(state.get(SHA_A)).toBeUndefined();
    await expect(readdir(path.join(dir, 'fresh'))).rejects.toThrow();
  });

  it('keeps entries by content hash across runs', async () => {
    const file = path.join(dir, 'out', '.doc-transcribe-state.json');
    const state = await SubmitStateFile.open(file);
    await state.set(SHA_A, entry('job-a', 'PROCESSING'));
    await state.set(SHA_B, entry('job-b', 'COMPLETED'));
    await state.set(SHA_A, entry('job-a', 'COMPLETED'));
    const reopened = await SubmitStateFile.open(file);
    expect(reopened.get(SHA_A)).toMatchObject({
      job_id: 'job-a',
      status: 'COMPLETED',
      written: ['book.txt'],
    });
    expect(reopened.get(SHA_B)?.job_id).toBe('job-b');
    expect(reopened.get(SHA_A)?.updated_at).toMatch(/Z$/);
  });

  it('forgets a content whose job was deleted', async () => {
    const file = path.join(dir, 'forget', 'state.json');
    const state = await SubmitStateFile.open(file);
    await state.set(SHA_A, entry('job-a', 'QUEUED'));
    await state.set(SHA_B, entry('job-b', 'QUEUED'));
    await state.delete(SHA_A);
    const reopened = await SubmitStateFile.open(file);
    expect(reopened.get(SHA_A)).toBeUndefined();
    expect(reopened.get(SHA_B)?.job_id).toBe('job-b');
  });

  it('remembers an unfinished upload session per content until its job exists, and reads older files without any', async () => {
    const file = path.join(dir, 'uploads', 'state.json');
    const older = { version: 1, files: {} };
    await writeFile(path.join(dir, 'older.json'), JSON.stringify(older));
    expect((await SubmitStateFile.open(path.join(dir, 'older.json'))).upload(SHA_A)).toBeUndefined();

    const state = await SubmitStateFile.open(file);
    const upload = { server: 'http://127.0.0.1:8080', fields_fingerprint: 'f'.repeat(16), upload_id: 'up-1' };
    await state.setUpload(SHA_A, upload);
    expect((await SubmitStateFile.open(file)).upload(SHA_A)).toMatchObject(upload);
    await state.deleteUpload(SHA_A);
    expect((await SubmitStateFile.open(file)).upload(SHA_A)).toBeUndefined();
  });

  it('writes changes made at the same moment one after another, the last one winning, with no temporary file left', async () => {
    const file = path.join(dir, 'burst', 'state.json');
    const state = await SubmitStateFile.open(file);
    await Promise.all(
      Array.from({ length: 20 }, (_, i) => state.set(i % 2 ? SHA_A : SHA_B, entry(`job-${i}`, 'QUEUED'))),
    );
    const written = JSON.parse(await readFile(file, 'utf8')) as { files: Record<string, { job_id: string }> };
    expect(written.files[SHA_A]?.job_id).toBe('job-19');
    expect(written.files[SHA_B]?.job_id).toBe('job-18');
    expect(await readdir(path.join(dir, 'burst'))).toEqual(['state.json']);
  });

  it('refuses a file it did not write, saying how to start afresh, instead of overwriting it', async () => {
    const file = path.join(dir, 'foreign.json');
    await writeFile(file, '{"version": 7}');
    await expect(SubmitStateFile.open(file)).rejects.toThrow(StateFileError);
    await writeFile(file, 'not json');
    await expect(SubmitStateFile.open(file)).rejects.toThrow(/move it away/);
    expect(await readFile(file, 'utf8')).toBe('not json');
  });
});

describe('the Idempotency-Key of a file', () => {
  it('is the content hash plus a fingerprint of the options, the same for the same options in any order', () => {
    const one = fieldsFingerprint({ language: 'hin', content_subtype: 'pravachan', job_type: undefined });
    const two = fieldsFingerprint({ content_subtype: 'pravachan', language: 'hin' });
    expect(one).toBe(two);
    expect(fieldsFingerprint({ language: 'eng' })).not.toBe(one);
    const key = idempotencyKeyOf(SHA_A, one);
    expect(key).toBe(`dt-cli-${SHA_A}-${one}`);
    expect(key).toMatch(/^[\x21-\x7e]{1,255}$/);
  });
});
