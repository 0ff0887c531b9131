import path from 'node:path';
import type {} from '@fastify/multipart';
import type { FastifyRequest } from 'fastify';
import { fileTypeFromBuffer } from 'file-type';
import { AppError, type SupportedInput, supportedInputByExt } from '../contract/index.js';
import { storageKeys } from '../jobs/storage-keys.js';
import type { ObjectStorage } from '../storage/object-storage.js';
import { ObjectTooLargeError } from '../storage/object-storage.js';
import { readStreamHead } from './read-stream-head.js';

export interface ReceivedUpload {
  fields: Record<string, string>;
  file: {
    filename: string;
    input: SupportedInput;
    sizeBytes: number;
    sha256: string;
  };
}

/** Enough bytes for file-type to recognise every container we accept. */
const SNIFF_BYTES = 4100;

/** Keeps the name people gave the file for display and downloads; storage never uses it. */
export function cleanFilename(raw: string | undefined): string {
  const base = path.posix.basename((raw ?? '').replaceAll('\\', '/'));
  const cleaned = base
    .replace(/\p{Cc}/gu, '')
    .trim()
    .normalize('NFC');
  return cleaned.slice(0, 255) || 'upload';
}

/**
 * Streams the multipart `file` part straight to storage under the job's key while recognising its
 * type from the first bytes; other parts are form fields. Nothing is held in memory whole. On any
 * failure the stored bytes are removed, so a rejected upload leaves nothing behind.
 */
export async function receiveUpload(
  request: FastifyRequest,
  options: { storage: ObjectStorage; jobId: string; maxBytes: number },
): Promise<ReceivedUpload> {
  const fields: Record<string, string> = {};
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
      const { head, whole } = await readStreamHead(part.file, SNIFF_BYTES);
      if (head.length === 0) {
        whole.resume();
        throw new AppError('UPLOAD_EMPTY');
      }
      const fileType = await fileTypeFromBuffer(head);
      const input = fileType ? supportedInputByExt(fileType.ext) : undefined;
      if (!input) {
        whole.resume();
        throw new AppError(
          'UNSUPPORTED_MEDIA_TYPE',
          fileType
            ? `Files of type ${fileType.mime} are not supported.`
            : 'The file type could not be recognised from its content.',
        );
      }
      const stored = await options.storage.put(storageKeys.input(options.jobId), whole, {
        maxBytes: options.maxBytes,
      });
      if (part.file.truncated) throw new AppError('UPLOAD_TOO_LARGE');
      file = {
        filename: cleanFilename(part.filename),
        input,
        sizeBytes: stored.sizeBytes,
        sha256: stored.sha256,
      };
    }
    if (!file) throw new AppError('FILE_MISSING');
    if (file.sizeBytes === 0) throw new AppError('UPLOAD_EMPTY');
    return { fields, file };
  } catch (error) {
    await options.storage.deletePrefix(storageKeys.jobPrefix(options.jobId));
    if (error instanceof ObjectTooLargeError) {
      throw new AppError('UPLOAD_TOO_LARGE', `Files up to ${options.maxBytes} bytes are accepted.`, {
        cause: error,
      });
    }
    throw error;
  }
}
