import { randomBytes } from 'node:crypto';
import { mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { z } from 'zod';
import { JOB_STATUSES, OUTPUT_FORMATS } from '../contract/index.js';
import { UsageError } from './exit-codes.js';

/** The state file's name inside `--out` when `--state` does not name another. */
export const DEFAULT_STATE_FILENAME = '.doc-transcribe-state.json';

const stateEntrySchema = z.object({
  server: z.string(),
  /** Hash of the submit fields: a re-run with other options is a new job. */
  fields_fingerprint: z.string(),
  job_id: z.string(),
  status: z.enum(JOB_STATUSES),
  error_code: z.string().nullable(),
  error_message: z.string().nullable(),
  /** Formats the finished job has (its `outputs`). */
  available_formats: z.array(z.enum(OUTPUT_FORMATS)),
  /** Results written so far, relative to the output folder. */
  written: z.array(z.string()),
  /** Relative names of the inputs with this content. */
  inputs: z.array(z.string()),
  updated_at: z.string(),
});
export type SubmitStateEntry = z.infer<typeof stateEntrySchema>;

/** A resumable upload under way (no job yet): a re-run goes on with it instead of starting over. */
const uploadEntrySchema = z.object({
  server: z.string(),
  fields_fingerprint: z.string(),
  upload_id: z.string(),
  updated_at: z.string(),
});
export type SubmitUploadEntry = z.infer<typeof uploadEntrySchema>;

const contentHash = z.string().regex(/^[0-9a-f]{64}$/);

const stateDocumentSchema = z.object({
  version: z.literal(1),
  /** Keyed by the SHA-256 (hex) of the input's content. */
  files: z.record(contentHash, stateEntrySchema),
  /** Absent in files written before resumable uploads were remembered. */
  uploads: z.record(contentHash, uploadEntrySchema).default({}),
});

export class StateFileError extends UsageError {}

/**
 * What a folder submit has done, keyed by content hash, so that a re-run skips finished files and
 * re-attaches to running jobs. Every change is written at once, whole, through a temporary file
 * and a rename: a crash leaves the previous or the new state, never half of one.
 */
export class SubmitStateFile {
  private writes: Promise<void> = Promise.resolve();

  private constructor(
    readonly filePath: string,
    private readonly files: Map<string, SubmitStateEntry>,
    private readonly uploads: Map<string, SubmitUploadEntry> = new Map(),
  ) {}

  static async open(filePath: string): Promise<SubmitStateFile> {
    let text: string;
    try {
      text = await readFile(filePath, 'utf8');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return new SubmitStateFile(filePath, new Map());
      throw new StateFileError(`cannot read the state file ${filePath}: ${(error as Error).message}`);
    }
    let parsed: z.infer<typeof stateDocumentSchema>;
    try {
      parsed = stateDocumentSchema.parse(JSON.parse(text));
    } catch {
      throw new StateFileError(
        `the state file ${filePath} is not one this version wrote; move it away to start afresh (finished files are then submitted again and the server answers with the same jobs for 24 h)`,
      );
    }
    return new SubmitStateFile(
      filePath,
      new Map(Object.entries(parsed.files)),
      new Map(Object.entries(parsed.uploads)),
    );
  }

  get(sha256: string): SubmitStateEntry | undefined {
    return this.files.get(sha256);
  }

  /** Records the entry and writes the file; resolves once this state is on disk. */
  set(sha256: string, entry: Omit<SubmitStateEntry, 'updated_at'>): Promise<void> {
    this.files.set(sha256, { ...entry, updated_at: new Date().toISOString() });
    return this.enqueueWrite();
  }

  /** The upload session an earlier run left unfinished for this content, if any. */
  upload(sha256: string): SubmitUploadEntry | undefined {
    return this.uploads.get(sha256);
  }

  /** Remembers an upload session as soon as it exists, so a killed run's bytes are not sent again. */
  setUpload(sha256: string, entry: Omit<SubmitUploadEntry, 'updated_at'>): Promise<void> {
    this.uploads.set(sha256, { ...entry, updated_at: new Date().toISOString() });
    return this.enqueueWrite();
  }

  /** Forgets the upload session of a content once its job exists. */
  deleteUpload(sha256: string): Promise<void> {
    if (!this.uploads.delete(sha256)) return this.writes;
    return this.enqueueWrite();
  }

  /** Forgets a content (its job was deleted): the next run submits it afresh. */
  delete(sha256: string): Promise<void> {
    if (!this.files.delete(sha256)) return this.writes;
    return this.enqueueWrite();
  }

  private enqueueWrite(): Promise<void> {
    const write = this.writes.then(() => this.write());
    this.writes = write.catch(() => undefined);
    return write;
  }

  private async write(): Promise<void> {
    const document = {
      version: 1 as const,
      files: Object.fromEntries(this.files),
      uploads: Object.fromEntries(this.uploads),
    };
    await mkdir(path.dirname(this.filePath), { recursive: true });
    const temporary = `${this.filePath}.${randomBytes(4).toString('hex')}.tmp`;
    try {
      await writeFile(temporary, `${JSON.stringify(document, null, 2)}\n`, 'utf8');
      await rename(temporary, this.filePath);
    } catch (error) {
      await rm(temporary, { force: true });
      throw error;
    }
  }
}
