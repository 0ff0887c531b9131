import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { access } from 'node:fs/promises';
import path from 'node:path';
import { pipeline } from 'node:stream/promises';
import { setTimeout as sleep } from 'node:timers/promises';
import { ApiError, ServerUnreachableError } from '../client/api-error.js';
import type { DocTranscribeClient, SubmitFields, UploadResume } from '../client/doc-transcribe-client.js';
import { watchJobs } from '../client/watch-jobs.js';
import {
  isTerminal,
  type Job,
  type JobStatus,
  OUTPUT_FORMATS,
  type OutputFormat,
} from '../contract/index.js';
import { collectInputFiles, type InputFile, InputSelectionError } from './collect-input-files.js';
import { downloadResults, planDownloads } from './download-results.js';
import { EXIT_CODES, type ExitCode } from './exit-codes.js';
import { createInputPathFilter } from './input-path-filter.js';
import { clashingRelativePaths, outputStems } from './output-names.js';
import type { SubmitProgress } from './submit-progress.js';
import type { SubmitStateEntry, SubmitStateFile } from './submit-state-file.js';

/** Pause before submitting again after `QUOTA_ACTIVE_JOBS`. */
const QUOTA_WAIT_MS = 5_000;
/** Holding back stops when no upload of this run has gone through for this long (others' jobs may hold the quota). */
const QUOTA_GIVE_UP_MS = 30 * 60_000;

export interface FolderSubmitOptions {
  inputs: readonly string[];
  include: readonly string[];
  exclude: readonly string[];
  fields: SubmitFields;
  /** Follow every job until it ends (implied by `outDir`). */
  wait: boolean;
  outDir: string | null;
  formats: readonly OutputFormat[];
  state: SubmitStateFile | null;
  concurrency: number;
  /** Run FAILED and CANCELLED jobs of the state file again instead of reporting them. */
  retryFailed: boolean;
}

/** What happened to one input file (`--json` prints these). */
export interface FileOutcome {
  input: string;
  sha256: string;
  job_id: string | null;
  /** The job's status, or `REFUSED` when the upload was refused and no job exists. */
  status: JobStatus | 'REFUSED';
  error_code: string | null;
  error_message: string | null;
  /** Results written, relative to the output folder. */
  outputs: string[];
  /** Already done (or already failed) in an earlier run: nothing was sent for it. */
  skipped: boolean;
  /** The server answered an earlier job for the same content and options (Idempotency-Key). */
  reused: boolean;
  ok: boolean;
}

export interface FolderSubmitResult {
  files: FileOutcome[];
  exitCode: ExitCode;
}

/** One distinct content: files with the same bytes share one job. */
interface Item {
  sha256: string;
  inputs: InputFile[];
  name: string;
  jobId: string | null;
  status: JobStatus | 'REFUSED';
  errorCode: string | null;
  errorMessage: string | null;
  availableFormats: OutputFormat[];
  written: string[];
  skipped: boolean;
  reused: boolean;
  ok: boolean | null;
  /** The job and status last written to the state file. */
  saved: string | null;
}

export async function sha256OfFile(filePath: string): Promise<string> {
  const hash = createHash('sha256');
  await pipeline(createReadStream(filePath), hash);
  return hash.digest('hex');
}

/** Same fields, same fingerprint: the part of the Idempotency-Key that says which options were asked for. */
export function fieldsFingerprint(fields: SubmitFields): string {
  const sorted = Object.entries(fields)
    .filter(([, value]) => value !== undefined)
    .sort(([a], [b]) => a.localeCompare(b));
  return createHash('sha256').update(JSON.stringify(sorted)).digest('hex').slice(0, 16);
}

/** Content hash + options: a crash between upload and state write still cannot make a second job. */
export function idempotencyKeyOf(sha256: string, fingerprint: string): string {
  return `dt-cli-${sha256}-${fingerprint}`;
}

async function exists(filePath: string): Promise<boolean> {
  return access(filePath).then(
    () => true,
    () => false,
  );
}

/**
 * `submit`: collects the files, submits each distinct content once (skipping what the state file
 * says is done, re-attaching to what is still running), follows the jobs with `--wait`, writes
 * the results under `--out` next to each file's relative name, and says which exit code it earned.
 */
export async function runFolderSubmit(
  client: DocTranscribeClient,
  options: FolderSubmitOptions,
  progress: SubmitProgress,
): Promise<FolderSubmitResult> {
  const wait = options.wait || options.outDir !== null;
  const skip = [options.outDir, options.state?.filePath].filter((p): p is string => Boolean(p));
  const files = await collectInputFiles(options.inputs, {
    filter: createInputPathFilter(options.include, options.exclude),
    skip,
  });
  if (files.length === 0)
    throw new InputSelectionError('no files to submit (check the paths and --include/--exclude)');
  const clashes = clashingRelativePaths(files.map((file) => file.relativePath));
  if (options.outDir && clashes.length > 0) {
    throw new InputSelectionError(
      `two inputs would write the same results: ${clashes.join(', ')}; submit those folders separately`,
    );
  }
  const stems = outputStems(files.map((file) => file.relativePath));
  const fingerprint = fieldsFingerprint(options.fields);

  const items = new Map<string, Item>();
  for (const file of files) {
    const sha256 = await sha256OfFile(file.absolutePath);
    const item = items.get(sha256);
    if (item) item.inputs.push(file);
    else {
      items.set(sha256, {
        sha256,
        inputs: [file],
        name: file.relativePath,
        jobId: null,
        status: 'QUEUED',
        errorCode: null,
        errorMessage: null,
        availableFormats: [],
        written: [],
        skipped: false,
        reused: false,
        ok: null,
        saved: null,
      });
    }
  }

  progress.begin(items.size);
  const show = (item: Item, phase: string, percent: number, detail = '') => {
    const others = item.inputs.length > 1 ? ` (+${item.inputs.length - 1} with the same content)` : '';
    progress.update({ name: `${item.name}${others}`, phase, percent, detail, outcome: item.ok });
  };
  const settle = (item: Item, ok: boolean, phase: string, detail = '') => {
    item.ok = ok;
    show(item, phase, ok ? 100 : 0, detail);
  };
  const errorDetail = (item: Item) => (item.errorCode ? `${item.errorCode}: ${item.errorMessage ?? ''}` : '');
  const save = async (item: Item) => {
    if (!options.state || !item.jobId || item.status === 'REFUSED') return;
    const entry: Omit<SubmitStateEntry, 'updated_at'> = {
      server: client.server,
      fields_fingerprint: fingerprint,
      job_id: item.jobId,
      status: item.status,
      error_code: item.errorCode,
      error_message: item.errorMessage,
      available_formats: item.availableFormats,
      written: item.written,
      inputs: item.inputs.map((input) => input.relativePath),
    };
    item.saved = `${item.jobId} ${item.status}`;
    await options.state.set(item.sha256, entry);
  };
  const absorb = (item: Item, job: Job) => {
    item.jobId = job.job_id;
    item.status = job.status;
    item.errorCode = job.error_code;
    item.errorMessage = job.error_message;
    item.availableFormats = OUTPUT_FORMATS.filter((format) => job.outputs[format] !== undefined);
  };
  const expectedOutputs = (item: Item, formatsOf: readonly OutputFormat[]) =>
    item.inputs.flatMap((input) =>
      options.formats
        .filter((format) => formatsOf.includes(format))
        .map((format) => `${stems.get(input.relativePath)}.${format}`),
    );

  /** Results of a COMPLETED job, for every input with its content; the item settles here. */
  const finishCompleted = async (item: Item, job: Job) => {
    if (options.outDir) {
      const outDir = options.outDir;
      show(item, 'downloading', 100);
      try {
        for (const input of item.inputs) {
          const plan = planDownloads(
            job,
            options.formats,
            stems.get(input.relativePath) ?? input.relativePath,
          );
          for (const written of await downloadResults(client, job, plan, outDir)) {
            if (!item.written.includes(written)) item.written.push(written);
          }
        }
      } catch (error) {
        await save(item);
        if (error instanceof ServerUnreachableError || (error instanceof ApiError && error.isAuthRefusal))
          throw error;
        item.errorCode = error instanceof ApiError ? error.code : 'DOWNLOAD_FAILED';
        item.errorMessage = error instanceof ApiError ? error.detail : (error as Error).message;
        settle(item, false, 'download failed', errorDetail(item));
        return;
      }
      await save(item);
      if (item.written.length === 0) {
        item.errorCode = 'RESULT_FORMAT_UNAVAILABLE';
        item.errorMessage = `this job has none of ${options.formats.join(', ')}`;
        settle(item, false, 'COMPLETED', errorDetail(item));
        return;
      }
    }
    settle(item, true, 'COMPLETED', item.written.join(', '));
  };

  const onJob = async (item: Item, job: Job) => {
    absorb(item, job);
    if (job.status === 'COMPLETED') return finishCompleted(item, job);
    if (isTerminal(job.status)) {
      await save(item);
      return settle(item, false, job.status, errorDetail(item));
    }
    if (item.saved !== `${job.job_id} ${job.status}`) await save(item);
    if (!wait) return settle(item, true, job.status, job.stage);
    show(item, job.status, job.progress, job.stage);
  };

  // What the state file already knows.
  const toSubmit: Item[] = [];
  const toWatch: Item[] = [];
  for (const item of items.values()) {
    const entry = options.state?.get(item.sha256);
    if (!entry || entry.server !== client.server || entry.fields_fingerprint !== fingerprint) {
      toSubmit.push(item);
      continue;
    }
    item.jobId = entry.job_id;
    item.status = entry.status;
    item.errorCode = entry.error_code;
    item.errorMessage = entry.error_message;
    item.availableFormats = entry.available_formats;
    item.written = entry.written;
    item.saved = `${entry.job_id} ${entry.status}`;
    if (entry.status === 'COMPLETED') {
      const expected = expectedOutputs(item, entry.available_formats);
      const outDir = options.outDir;
      const allWritten =
        outDir === null ||
        (expected.every((output) => entry.written.includes(output)) &&
          (await Promise.all(expected.map((output) => exists(path.join(outDir, output))))).every(Boolean));
      if (allWritten && (outDir === null || expected.length > 0)) {
        item.skipped = true;
        settle(item, true, 'skipped', 'already done');
      } else {
        toWatch.push(item);
      }
    } else if (entry.status === 'FAILED' || entry.status === 'CANCELLED') {
      if (options.retryFailed) toSubmit.push(item);
      else {
        item.skipped = true;
        settle(
          item,
          false,
          entry.status,
          `${errorDetail(item)} (an earlier run; --retry-failed runs it again)`,
        );
      }
    } else {
      toWatch.push(item);
    }
  }

  // Uploads, a few at a time.
  const queue = [...toSubmit];
  const submitNext = async (): Promise<void> => {
    for (let item = queue.shift(); item; item = queue.shift()) {
      show(item, item.jobId ? 'retrying' : 'uploading', 0);
      let job: Job;
      uploading += 1;
      try {
        job =
          item.jobId && (item.status === 'FAILED' || item.status === 'CANCELLED')
            ? await retryOne(item, item.jobId)
            : await submitOne(item);
      } catch (error) {
        if (!(error instanceof ApiError) || error.isAuthRefusal) throw error;
        // A folder larger than the active-jobs quota goes on as this run's earlier jobs finish.
        const holdBack = uploading > 1 || (mayStillRun() && Date.now() - lastAccepted < QUOTA_GIVE_UP_MS);
        if (error.code === 'QUOTA_ACTIVE_JOBS' && wait && holdBack) {
          show(item, 'waiting', 0, 'as many jobs at once as the service allows: waiting for some to finish');
          queue.unshift(item);
          await sleep(QUOTA_WAIT_MS);
          continue;
        }
        if (item.jobId === null) item.status = 'REFUSED';
        item.errorCode = error.code;
        item.errorMessage = error.detail;
        settle(item, false, 'refused', errorDetail(item));
        continue;
      } finally {
        uploading -= 1;
      }
      lastAccepted = Date.now();
      item.written = [];
      await onJob(item, job);
      if (wait && !isTerminal(job.status)) toWatch.push(item);
    }
  };

  let uploading = 0;
  let lastAccepted = Date.now();
  const mayStillRun = () =>
    [...items.values()].some(
      (other) => other.jobId !== null && other.status !== 'REFUSED' && !isTerminal(other.status),
    );
  // A job deleted since the earlier run cannot be retried: its file is submitted afresh.
  const retryOne = (item: Item, jobId: string) =>
    client.retry(jobId).catch((error: unknown) => {
      if (error instanceof ApiError && error.code === 'JOB_NOT_FOUND') return submitOne(item);
      throw error;
    });
  const submitOne = async (item: Item) => {
    const [first] = item.inputs;
    if (!first) throw new Error('an item without inputs');
    const state = options.state;
    // A large file's upload session outlives a killed run: the next run goes on from its offset.
    const earlier = state?.upload(item.sha256);
    const resume: UploadResume | undefined = state
      ? {
          uploadId:
            earlier?.server === client.server && earlier.fields_fingerprint === fingerprint
              ? earlier.upload_id
              : undefined,
          onCreated: (uploadId) =>
            state.setUpload(item.sha256, {
              server: client.server,
              fields_fingerprint: fingerprint,
              upload_id: uploadId,
            }),
        }
      : undefined;
    const job = await client.submit(
      { path: first.absolutePath, filename: path.basename(first.relativePath) },
      options.fields,
      idempotencyKeyOf(item.sha256, fingerprint),
      resume,
    );
    await state?.deleteUpload(item.sha256);
    item.reused = job.reused;
    return job;
  };
  await Promise.all(Array.from({ length: Math.max(1, options.concurrency) }, () => submitNext()));
  if (!wait) {
    for (const item of toWatch) settle(item, true, item.status, 'submitted by an earlier run');
  }

  // Following the jobs until each ends; results are written as each completes.
  if (wait && toWatch.length > 0) {
    const byJobId = new Map(toWatch.flatMap((item) => (item.jobId ? [[item.jobId, item] as const] : [])));
    // Downloads and state writes run one after another; the first error that stops the run is kept
    // (never left as an unhandled rejection while the watcher goes on).
    let work: Promise<void> = Promise.resolve();
    let stopped: { error: unknown } | null = null;
    const later = (task: () => Promise<void>) => {
      work = work
        .then(() => (stopped ? undefined : task()))
        .catch((error: unknown) => {
          stopped ??= { error };
        });
    };
    await watchJobs(client, [...byJobId.keys()], {
      onJob: (job) => {
        const item = byJobId.get(job.job_id);
        if (item) later(() => onJob(item, job));
      },
      onGone: (jobId) => {
        const item = byJobId.get(jobId);
        if (!item) return;
        later(async () => {
          await options.state?.delete(item.sha256);
          item.errorCode = 'JOB_NOT_FOUND';
          item.errorMessage = 'the job was deleted while this run was waiting for it';
          settle(item, false, 'deleted', errorDetail(item));
        });
      },
    });
    await work;
    if (stopped) throw (stopped as { error: unknown }).error;
  }

  const outcomes: FileOutcome[] = [];
  for (const item of items.values()) {
    for (const input of item.inputs) {
      const stem = stems.get(input.relativePath);
      outcomes.push({
        input: input.relativePath,
        sha256: item.sha256,
        job_id: item.jobId,
        status: item.status,
        error_code: item.errorCode,
        error_message: item.errorMessage,
        outputs: item.written.filter((output) =>
          options.formats.some((format) => output === `${stem}.${format}`),
        ),
        skipped: item.skipped,
        reused: item.reused,
        ok: item.ok === true,
      });
    }
  }
  const succeeded = outcomes.filter((outcome) => outcome.ok).length;
  const exitCode =
    succeeded === outcomes.length ? EXIT_CODES.ok : succeeded === 0 ? EXIT_CODES.failed : EXIT_CODES.partial;
  return { files: outcomes, exitCode };
}
