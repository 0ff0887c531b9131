import { z } from 'zod';

/** Speech engines this build has; a job may ask for one (`transcription_engine`) the deployment offers. */
export const SPEECH_ENGINES = ['pocketsphinx', 'whisper', 'openai', 'gemini'] as const;
export type SpeechEngineName = (typeof SPEECH_ENGINES)[number];

/** Per-job transcription options, as stored on the job and echoed back; absent ones take the configured defaults. */
export const transcriptionOptionsSchema = z.object({
  /** The speech engine; absent: the configured TRANSCRIPTION_ENGINE. */
  engine: z.enum(SPEECH_ENGINES).optional(),
  /** Wished chunk length in seconds; cuts land at the nearest silence. */
  chunk_sec: z.number().int().min(5).max(3600).optional(),
  /** Seconds of audio added on each side of a chunk, de-duplicated at the seams. */
  chunk_overlap_sec: z.number().min(0).max(10).optional(),
  /** Chunks transcribed at once. */
  chunks_in_flight: z.number().int().min(1).max(16).optional(),
  /** Start each paragraph of the text output with its time. */
  txt_timestamps: z.boolean().optional(),
});
export type TranscriptionOptions = z.infer<typeof transcriptionOptionsSchema>;

/** Multipart fields of `POST /v1/jobs` that set transcription options (strings on the wire). */
export const transcriptionSubmitFieldsShape = {
  transcription_engine: z
    .enum(SPEECH_ENGINES)
    .optional()
    .describe('The speech engine (one of those GET /v1/config offers); absent: the configured one'),
  chunk_sec: z.coerce.number().int().min(5).max(3600).optional(),
  chunk_overlap_sec: z.coerce.number().min(0).max(10).optional(),
  chunks_in_flight: z.coerce.number().int().min(1).max(16).optional(),
  txt_timestamps: z
    .enum(['true', 'false'])
    .optional()
    .transform((value) => (value === undefined ? undefined : value === 'true')),
};

/** The stored options of a submission, or undefined when it named none. */
export function transcriptionOptionsFromFields(fields: {
  transcription_engine?: SpeechEngineName | undefined;
  chunk_sec?: number | undefined;
  chunk_overlap_sec?: number | undefined;
  chunks_in_flight?: number | undefined;
  txt_timestamps?: boolean | undefined;
}): TranscriptionOptions | undefined {
  const options: TranscriptionOptions = {};
  if (fields.transcription_engine) options.engine = fields.transcription_engine;
  if (fields.chunk_sec !== undefined) options.chunk_sec = fields.chunk_sec;
  if (fields.chunk_overlap_sec !== undefined) options.chunk_overlap_sec = fields.chunk_overlap_sec;
  if (fields.chunks_in_flight !== undefined) options.chunks_in_flight = fields.chunks_in_flight;
  if (fields.txt_timestamps !== undefined) options.txt_timestamps = fields.txt_timestamps;
  return Object.keys(options).length > 0 ? options : undefined;
}
