import { pipeline, Readable } from 'node:stream';
import type {} from '@fastify/multipart';
import type { FastifyBaseLogger, FastifyRequest } from 'fastify';
import { fileTypeFromBuffer } from 'file-type';
import { AppError, type JobWarning, type SupportedInput, supportedInputByExt } from '../contract/index.js';
import { storageKeys } from '../jobs/storage-keys.js';
import type { ObjectStorage } from '../storage/object-storage.js';
import { ObjectTooLargeError } from '../storage/object-storage.js';
import { checkImageHead, checkStoredPdfPages } from './check-input-complexity.js';
import {
  checkHeadForPolyglot,
  cleanFilename,
  judgeContent,
  maxBytesFor,
  type UploadLimits,
  UploadTail,
} from './check-upload.js';
import { readStreamHead } from './read-stream-head.js';

export { cleanFilename } from './check-upload.js';

/**
 * Form fields by name. A name ending in `[]` is an array field (as the openai client sends
 * `timestamp_granularities: ['segment', 'word']`): every value is kept, in order.
 */
export type FormFields = Record<string, string | string[]>;

export interface ReceivedUpload {
  fields: FormFields;
  file: {
    filename: string;
    input: SupportedInput;
    sizeBytes: number;
    sha256: string;
    /** Set when the name names another input of the same type than the content (accepted). */
    extensionWarning?: string;
  };
}

/** The warnings an accepted upload gives its job (absent when none): a name not matching the content. */
export function uploadWarnings(file: ReceivedUpload['file']): { warnings?: JobWarning[] } {
  return file.extensionWarning
    ? { warnings: [{ code: 'FILE_EXTENSION_DIFFERS', message: file.extensionWarning }] }
    : {};
}

/** Enough bytes for file-type to recognise every container we accept. */
const SNIFF_BYTES = 4100;

/**
 * Stores one file's bytes under the job's input key through the one path every upload takes
 * (multipart or a resumable upload's parts): the first bytes are sniffed, name and content must
 * agree, the size limit of the sniffed type is applied while streaming, and a ZIP appended at the
 * end is refused; an image whose header claims too many pixels is refused from the head, a PDF
 * with too many pages once stored (`pdfinfo`). On any failure the job's stored bytes are removed.
 */
export async function storeUploadStream(
  source: Readable,
  options: UploadLimits & {
    storage: ObjectStorage;
    jobId: string;
    /** Already cleaned (cleanFilename). */
    filename: string;
    /** What to do with a refused stream: drain it (a multipart part must be read to its end) or stop it. */
    onRefused?: 'drain' | 'destroy';
    /** Whether the source was cut at the transport's own size limit (multipart `truncated`). */
    truncated?: () => boolean;
    log?: FastifyBaseLogger;
  },
): Promise<ReceivedUpload['file']> {
  let maxBytes = options.maxBytes;
  try {
    const { head, whole } = await readStreamHead(source, SNIFF_BYTES);
    let verdict: ReturnType<typeof judgeContent>;
    try {
      if (head.length === 0) throw new AppError('UPLOAD_EMPTY');
      checkHeadForPolyglot(head);
      const fileType = await fileTypeFromBuffer(head);
      verdict = judgeContent(
        options.filename,
        fileType,
        fileType ? supportedInputByExt(fileType.ext) : undefined,
      );
      // A bomb's header is enough: refused before the rest of it is read.
      if (options.complexity) checkImageHead(head, verdict.input, options.complexity);
    } catch (error) {
      if (options.onRefused === 'destroy') {
        whole.destroy();
        source.destroy();
      } else whole.resume();
      throw error;
    }
    maxBytes = maxBytesFor(options, verdict.input.jobType);
    const tail = new UploadTail();
    const stored = await options.storage.put(
      storageKeys.input(options.jobId),
      pipeline(whole, tail, () => {}),
      { maxBytes },
    );
    if (options.truncated?.()) throw new AppError('UPLOAD_TOO_LARGE');
    tail.checkForAppendedArchive();
    if (stored.sizeBytes === 0) throw new AppError('UPLOAD_EMPTY');
    if (options.complexity && verdict.input.mime === 'application/pdf') {
      await checkStoredPdfPages(
        options.storage,
        storageKeys.input(options.jobId),
        options.complexity,
        options.log,
      );
    }
    return {
      filename: options.filename,
      input: verdict.input,
      sizeBytes: stored.sizeBytes,
      sha256: stored.sha256,
      ...(verdict.extensionWarning ? { extensionWarning: verdict.extensionWarning } : {}),
    };
  } catch (error) {
    await options.storage.deletePrefix(storageKeys.jobPrefix(options.jobId));
    if (error instanceof ObjectTooLargeError) {
      throw new AppError('UPLOAD_TOO_LARGE', `Files of this type up to ${maxBytes} bytes are accepted.`, {
        cause: error,
      });
    }
    throw error;
  }
}

/** Adds one multipart field: an array field (`name[]`) gathers all its values, another keeps the last. */
export function addFormField(fields: FormFields, name: string, value: string): void {
  if (!name.endsWith('[]')) {
    fields[name] = value;
    return;
  }
  const current = fields[name];
  fields[name] = Array.isArray(current) ? [...current, value] : [value];
}

/**
 * Streams the multipart `file` part straight to storage under the job's key while recognising its
 * type from the first bytes; other parts are form fields. Nothing is held in memory whole. On any
 * failure the stored bytes are removed, so a rejected upload leaves nothing behind.
 */
export async function receiveUpload(
  request: FastifyRequest,
  options: UploadLimits & { storage: ObjectStorage; jobId: string; log?: FastifyBaseLogger },
): Promise<ReceivedUpload> {
  const fields: FormFields = {};
  let file: ReceivedUpload['file'] | undefined;
  try {
    for await (const part of request.parts()) {
      if (part.type === 'field') {
        if (typeof part.value === 'string') addFormField(fields, part.fieldname, part.value);
        continue;
      }
      if (part.fieldname !== 'file' || file) {
        part.file.resume();
        throw new AppError('VALIDATION_FAILED', 'Send exactly one file, in the multipart field "file".');
      }
      let filename: string;
      try {
        filename = cleanFilename(part.filename);
      } catch (error) {
        part.file.resume();
        throw error;
      }
      file = await storeUploadStream(part.file, {
        ...options,
        filename,
        truncated: () => part.file.truncated,
      });
    }
    if (!file) throw new AppError('FILE_MISSING');
    return { fields, file };
  } catch (error) {
    await options.storage.deletePrefix(storageKeys.jobPrefix(options.jobId));
    throw error;
  }
}

/**
 * The parts of a complete resumable upload, read one after the other from storage as one stream
 * (never more than a read buffer in memory).
 */
export function concatenateParts(storage: ObjectStorage, partKeys: readonly string[]): Readable {
  return Readable.from(
    (async function* () {
      for (const key of partKeys) {
        for await (const chunk of await storage.get(key)) yield chunk as Buffer;
      }
    })(),
  );
}
