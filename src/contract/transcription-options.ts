import { z } from 'zod';

/** Per-job transcription options, as stored on the job and echoed back; absent ones take the configured defaults. */
export const transcriptionOptionsSchema = z.object({
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
  chunk_sec?: number | undefined;
  chunk_overlap_sec?: number | undefined;
  chunks_in_flight?: number | undefined;
  txt_timestamps?: boolean | undefined;
}): TranscriptionOptions | undefined {
  const options: TranscriptionOptions = {};
  if (fields.chunk_sec !== undefined) options.chunk_sec = fields.chunk_sec;
  if (fields.chunk_overlap_sec !== undefined) options.chunk_overlap_sec = fields.chunk_overlap_sec;
  if (fields.chunks_in_flight !== undefined) options.chunks_in_flight = fields.chunks_in_flight;
  if (fields.txt_timestamps !== undefined) options.txt_timestamps = fields.txt_timestamps;
  return Object.keys(options).length > 0 ? options : undefined;
}
