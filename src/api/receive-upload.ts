import { pipeline } from 'node:stream';
import type {} from '@fastify/multipart';
import type { FastifyRequest } from 'fastify';
import { fileTypeFromBuffer } from 'file-type';
import {
  AppError,
  type JobType,
  type JobWarning,
  type SupportedInput,
  supportedInputByExt,
} from '../contract/index.js';
import { storageKeys } from '../jobs/storage-keys.js';
import type { ObjectStorage } from '../storage/object-storage.js';
import { ObjectTooLargeError } from '../storage/object-storage.js';
import { checkHeadForPolyglot, cleanFilename, judgeContent, UploadTail } from './check-upload.js';
import { readStreamHead } from './read-stream-head.js';

export { cleanFilename } from './check-upload.js';

export interface ReceivedUpload {
  fields: Record<string, string>;
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
 * Streams the multipart `file` part straight to storage under the job's key while recognising its
 * type from the first bytes; other parts are form fields. Nothing is held in memory whole. On any
 * failure the stored bytes are removed, so a rejected upload leaves nothing behind.
 */
export async function receiveUpload(
  request: FastifyRequest,
  options: {
    storage: ObjectStorage;
    jobId: string;
    maxBytes: number;
    /** Tighter limits per job type (UPLOAD_MAX_BYTES_OCR / _TRANSCRIPTION), applied once sniffed. */
    maxBytesByType?: Readonly<Record<JobType, number>>;
  },
): Promise<ReceivedUpload> {
  const fields: Record<string, string> = {};
  let maxBytes = options.maxBytes;
  let file: ReceivedUpload['file'] | undefined;
  try {
    for await (const part of request.parts()) {
      if (part.type === 'field') {
        if (typeof part.value === 'string') fields[part.fieldname] = part.value;
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
      const { head, whole } = await readStreamHead(part.file, SNIFF_BYTES);
      let verdict: ReturnType<typeof judgeContent>;
      try {
        if (head.length === 0) throw new AppError('UPLOAD_EMPTY');
        checkHeadForPolyglot(head);
        const fileType = await fileTypeFromBuffer(head);
        verdict = judgeContent(filename, fileType, fileType ? supportedInputByExt(fileType.ext) : undefined);
      } catch (error) {
        whole.resume();
        throw error;
      }
      maxBytes = Math.min(options.maxBytes, options.maxBytesByType?.[verdict.input.jobType] ?? Infinity);
      const tail = new UploadTail();
      const stored = await options.storage.put(
        storageKeys.input(options.jobId),
        pipeline(whole, tail, () => {}),
        {
          maxBytes,
        },
      );
      if (part.file.truncated) throw new AppError('UPLOAD_TOO_LARGE');
      tail.checkForAppendedArchive();
      file = {
        filename,
        input: verdict.input,
        sizeBytes: stored.sizeBytes,
        sha256: stored.sha256,
        ...(verdict.extensionWarning ? { extensionWarning: verdict.extensionWarning } : {}),
      };
    }
    if (!file) throw new AppError('FILE_MISSING');
    if (file.sizeBytes === 0) throw new AppError('UPLOAD_EMPTY');
    return { fields, file };
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
