import path from 'node:path';
import { Transform } from 'node:stream';
import {
  AppError,
  INPUT_EXTENSIONS,
  inputByFilenameExt,
  type JobType,
  type SupportedInput,
} from '../contract/index.js';
import type { InputComplexityLimits } from './check-input-complexity.js';

/** Longest display name kept, in characters; longer names are shortened, their extension kept. */
const MAX_FILENAME_CHARS = 255;
/** Names longer than this (in UTF-16 units) are not a file name but an attack on the parser. */
const MAX_RAW_FILENAME_CHARS = 4096;
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;
/** Readers find a PDF header anywhere in the first 1024 bytes: anywhere but 0 means another type first. */
const PDF_HEADER_WINDOW = 1024;
/** A ZIP's end-of-central-directory record: 22 bytes plus a comment of up to 65,535 bytes. */
export const ZIP_TAIL_BYTES = 22 + 65_535;

/**
 * The name people gave the file, for display and downloads only (storage keys come from job ids):
 * the last path segment, without control characters or bidirectional overrides (which can make
 * `report‮fdp.exe` read as `report.exe.pdf`), NFC, at most 255 characters with its extension kept.
 * Absent or empty names become `upload`; a name that is not text or has nothing left after cleaning
 * is `FILENAME_INVALID`.
 */
export function cleanFilename(raw: string | undefined): string {
  if (raw === undefined || raw === '') return 'upload';
  if (raw.length > MAX_RAW_FILENAME_CHARS || LONE_SURROGATE.test(raw) || raw.includes('\uFFFD')) {
    throw new AppError('FILENAME_INVALID', 'The file name is not valid text or is far too long.');
  }
  const base = path.posix.basename(raw.replaceAll('\\', '/'));
  const cleaned = base
    .replace(/[\p{Cc}\u200E\u200F\u202A-\u202E\u2066-\u2069]/gu, '')
    .trim()
    .normalize('NFC');
  if (/^\.*$/.test(cleaned)) {
    throw new AppError(
      'FILENAME_INVALID',
      'Nothing is left of the file name once its path and control characters are removed.',
    );
  }
  const chars = [...cleaned];
  if (chars.length <= MAX_FILENAME_CHARS) return cleaned;
  const ext = path.extname(cleaned);
  const keep = ext.length > 0 && ext.length <= 16 ? [...ext] : [];
  return chars.slice(0, MAX_FILENAME_CHARS - keep.length).join('') + keep.join('');
}

/** The extension of a (cleaned) file name, lower case, without the dot; '' when there is none. */
export function filenameExt(filename: string): string {
  return path.extname(filename).slice(1).toLowerCase();
}

/** The size limits of uploads: every upload, and tighter ones per job type (UPLOAD_MAX_BYTES_*). */
export interface UploadLimits {
  maxBytes: number;
  maxBytesByType?: Readonly<Record<JobType, number>> | undefined;
  /** Pixels of an image, pages of a PDF (check-input-complexity.ts); absent: left to the worker. */
  complexity?: InputComplexityLimits | undefined;
}

/** The largest upload accepted for a job type (unknown: the limit of every upload). */
export function maxBytesFor(limits: UploadLimits, jobType: JobType | undefined): number {
  return Math.min(limits.maxBytes, (jobType && limits.maxBytesByType?.[jobType]) || Infinity);
}

/**
 * The largest file a resumable upload may declare before any byte is seen: the limit of the job
 * type its name's extension names (the content, judged when the job is made, decides in the end).
 */
export function declaredSizeLimit(limits: UploadLimits, filename: string): number {
  const ext = filenameExt(filename);
  return maxBytesFor(limits, ext ? inputByFilenameExt(ext)?.jobType : undefined);
}

export interface ContentVerdict {
  input: SupportedInput;
  /** Set when the name names another input of the same job type (a PNG named `.jpg`): accepted. */
  extensionWarning?: string;
}

/**
 * Judges a file by its sniffed content and its name together: the content must be an input we
 * take, and the name's extension must agree with it (a known other type under an accepted name,
 * such as an executable named `.pdf`, is FILE_EXTENSION_MISMATCH). A name without an extension is judged by
 * content alone; one naming another input of the same job type is accepted with a warning.
 */
export function judgeContent(
  filename: string,
  sniffed: { ext: string; mime: string } | undefined,
  supported: SupportedInput | undefined,
): ContentVerdict {
  const ext = filenameExt(filename);
  const named = ext ? inputByFilenameExt(ext) : undefined;
  if (!supported) {
    // A name promising a document or recording on content of another known type (a renamed
    // program): a mismatch. Content nobody recognises is simply not a type we read.
    if (named && sniffed) {
      throw new AppError(
        'FILE_EXTENSION_MISMATCH',
        `The file is named .${ext} but its content is ${sniffed.mime}.`,
      );
    }
    throw new AppError(
      'UNSUPPORTED_MEDIA_TYPE',
      sniffed
        ? `Files of type ${sniffed.mime} are not supported.`
        : 'The file type could not be recognised from its content.',
    );
  }
  if (!ext || INPUT_EXTENSIONS[supported.ext]?.includes(ext)) return { input: supported };
  if (named && named.jobType === supported.jobType) {
    return {
      input: supported,
      extensionWarning: `The file is named .${ext} but its content is ${supported.mime}; it is read as ${supported.mime}.`,
    };
  }
  throw new AppError(
    'FILE_EXTENSION_MISMATCH',
    named
      ? `The file is named .${ext} (${named.jobType}) but its content is ${supported.mime} (${supported.jobType}).`
      : `Files named .${ext} are not accepted; this one's content is ${supported.mime}.`,
  );
}

/** Markup that makes a file also a web page or a script when a browser or server sniffs it. */
const MARKUP = /<(script|html|\?php|!doctype html|iframe|svg)[\s>/]/i;

/**
 * Refuses files that are more than one type at once, from their first bytes: a PDF header after
 * offset 0 (another format comes first: ELF, ZIP, HTML … and PDF readers still open it) or
 * browser-active markup among the first bytes of a binary document.
 */
export function checkHeadForPolyglot(head: Buffer): void {
  const pdfAt = head.subarray(0, PDF_HEADER_WINDOW).indexOf('%PDF-');
  if (pdfAt > 0) {
    throw new AppError(
      'FILE_POLYGLOT',
      `A PDF header starts at byte ${pdfAt}, after content of another type.`,
    );
  }
  if (MARKUP.test(head.toString('latin1'))) {
    throw new AppError(
      'FILE_POLYGLOT',
      'The file carries HTML or script markup next to its document content.',
    );
  }
}

/**
 * A pass-through that keeps the last bytes of an upload, so that once it is stored we can tell a
 * ZIP archive appended to it (a JPEG or PDF that is also a ZIP): the end-of-central-directory
 * record must end the file exactly, which random data almost never does.
 */
export class UploadTail extends Transform {
  // The last chunks themselves, not a copy: copying each chunk into a joined tail doubled the
  // buffers an upload allocates (and the API's memory while it streams).
  private chunks: Buffer[] = [];
  private held = 0;

  override _transform(
    chunk: Buffer,
    _encoding: BufferEncoding,
    callback: (error?: Error | null, data?: Buffer) => void,
  ) {
    this.chunks.push(chunk);
    this.held += chunk.length;
    // Drop the oldest chunks while the rest still cover the tail.
    while (this.chunks.length > 1 && this.held - (this.chunks[0]?.length ?? 0) >= ZIP_TAIL_BYTES) {
      this.held -= this.chunks.shift()?.length ?? 0;
    }
    callback(null, chunk);
  }

  /** The last ZIP_TAIL_BYTES of the stream (all of it when shorter). */
  get tail(): Buffer {
    const joined = Buffer.concat(this.chunks);
    return joined.length > ZIP_TAIL_BYTES ? joined.subarray(joined.length - ZIP_TAIL_BYTES) : joined;
  }

  /** Throws `FILE_POLYGLOT` when the stored bytes end with a ZIP archive's directory. */
  checkForAppendedArchive(): void {
    if (endsWithZipDirectory(this.tail)) {
      throw new AppError('FILE_POLYGLOT', 'The file ends with a ZIP archive appended to its content.');
    }
  }
}

export function endsWithZipDirectory(tail: Buffer): boolean {
  for (let at = tail.length - 22; at >= 0; at -= 1) {
    if (tail.readUInt32LE(at) !== 0x06054b50) continue;
    if (at + 22 + tail.readUInt16LE(at + 20) === tail.length) return true;
  }
  return false;
}
