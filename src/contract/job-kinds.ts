/** Job types, content subtypes, output formats and the inputs each job type accepts. */
export const JOB_TYPES = ['OCR', 'TRANSCRIPTION'] as const;
export type JobType = (typeof JOB_TYPES)[number];

/** Content subtypes select engine prompts (cloud engines) and are kept for the user's history. */
export const CONTENT_SUBTYPES = ['general', 'pravachan', 'shanka_samadhan', 'jain_literature'] as const;
export type ContentSubtype = (typeof CONTENT_SUBTYPES)[number];

export const OUTPUT_FORMATS = ['txt', 'json', 'srt', 'vtt', 'pdf', 'hocr'] as const;
export type OutputFormat = (typeof OUTPUT_FORMATS)[number];

export const OUTPUT_MEDIA_TYPES: Readonly<Record<OutputFormat, string>> = {
  txt: 'text/plain; charset=utf-8',
  json: 'application/json; charset=utf-8',
  srt: 'application/x-subrip; charset=utf-8',
  vtt: 'text/vtt; charset=utf-8',
  pdf: 'application/pdf',
  hocr: 'text/vnd.hocr+html; charset=utf-8',
};

export interface SupportedInput {
  /** Canonical media type recorded on the job as `input_mime`. */
  mime: string;
  /** Extension as reported by content sniffing (file-type); also used for stored file names. */
  ext: string;
  jobType: JobType;
}

/** Inputs accepted by content (magic bytes), never by file name. */
export const SUPPORTED_INPUTS: readonly SupportedInput[] = [
  { mime: 'application/pdf', ext: 'pdf', jobType: 'OCR' },
  { mime: 'image/png', ext: 'png', jobType: 'OCR' },
  { mime: 'image/jpeg', ext: 'jpg', jobType: 'OCR' },
  { mime: 'image/tiff', ext: 'tif', jobType: 'OCR' },
  { mime: 'image/webp', ext: 'webp', jobType: 'OCR' },
  { mime: 'image/bmp', ext: 'bmp', jobType: 'OCR' },
  { mime: 'audio/mpeg', ext: 'mp3', jobType: 'TRANSCRIPTION' },
  { mime: 'audio/wav', ext: 'wav', jobType: 'TRANSCRIPTION' },
  { mime: 'audio/x-m4a', ext: 'm4a', jobType: 'TRANSCRIPTION' },
  { mime: 'audio/aac', ext: 'aac', jobType: 'TRANSCRIPTION' },
  { mime: 'audio/flac', ext: 'flac', jobType: 'TRANSCRIPTION' },
  { mime: 'audio/ogg', ext: 'ogg', jobType: 'TRANSCRIPTION' },
  { mime: 'audio/opus', ext: 'opus', jobType: 'TRANSCRIPTION' },
  { mime: 'audio/x-ms-wma', ext: 'asf', jobType: 'TRANSCRIPTION' },
  { mime: 'video/mp4', ext: 'mp4', jobType: 'TRANSCRIPTION' },
  { mime: 'video/quicktime', ext: 'mov', jobType: 'TRANSCRIPTION' },
  { mime: 'video/x-matroska', ext: 'mkv', jobType: 'TRANSCRIPTION' },
  { mime: 'video/webm', ext: 'webm', jobType: 'TRANSCRIPTION' },
  { mime: 'video/vnd.avi', ext: 'avi', jobType: 'TRANSCRIPTION' },
];

/**
 * File-name extensions accepted for each input, keyed by the `ext` its content sniffs as. An upload's
 * name must agree with its content (or name another input of the same job type: accepted with a
 * warning), never name an input of the other type or something not on this list.
 */
export const INPUT_EXTENSIONS: Readonly<Record<string, readonly string[]>> = {
  pdf: ['pdf'],
  png: ['png'],
  jpg: ['jpg', 'jpeg', 'jpe', 'jfif'],
  tif: ['tif', 'tiff'],
  webp: ['webp'],
  bmp: ['bmp', 'dib'],
  mp3: ['mp3'],
  wav: ['wav', 'wave'],
  m4a: ['m4a', 'm4b', 'mp4', 'aac'],
  aac: ['aac'],
  flac: ['flac'],
  ogg: ['ogg', 'oga'],
  opus: ['opus', 'ogg'],
  asf: ['wma', 'asf'],
  mp4: ['mp4', 'm4v', 'm4a'],
  mov: ['mov', 'qt'],
  mkv: ['mkv', 'mka'],
  webm: ['webm'],
  avi: ['avi'],
};

/** The input a file-name extension (without the dot, any case) names, if any. */
export function inputByFilenameExt(ext: string): SupportedInput | undefined {
  const lower = ext.toLowerCase();
  return (
    supportedInputByExt(lower) ??
    SUPPORTED_INPUTS.find((input) => INPUT_EXTENSIONS[input.ext]?.includes(lower))
  );
}

export const QUEUE_NAMES: Readonly<Record<JobType, string>> = {
  OCR: 'ocr',
  TRANSCRIPTION: 'transcription',
};

export function supportedInputByExt(ext: string): SupportedInput | undefined {
  return SUPPORTED_INPUTS.find((input) => input.ext === ext);
}
