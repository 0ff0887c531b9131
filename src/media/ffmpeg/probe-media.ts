import { stat } from 'node:fs/promises';
import { z } from 'zod';
import { AppError } from '../../contract/index.js';
import { runChildProcess } from '../../process/run-child-process.js';
import { toolFailure } from '../../process/tool-failure.js';

export interface MediaProbe {
  /** Container duration as ffprobe reports it; null when the file does not say (some live-recorded WebM). */
  durationSec: number | null;
  /** The audio stream's own duration; shorter than `durationSec` in a video whose sound stops early. */
  audioDurationSec: number | null;
  /** Always true: a file without an audio stream is rejected with MEDIA_NO_AUDIO. */
  hasAudio: boolean;
  audioCodec: string;
  formatName: string;
}

export interface ProbeOptions {
  signal?: AbortSignal;
  timeoutMs?: number;
}

const DEFAULT_PROBE_TIMEOUT_MS = 30_000;

// ffprobe prints numbers as strings ("4.410000") and "N/A" when unknown.
const ffprobeOutputSchema = z.object({
  format: z
    .object({
      format_name: z.string().optional(),
      duration: z.string().optional(),
    })
    .optional(),
  streams: z
    .array(
      z.object({
        codec_type: z.string().optional(),
        codec_name: z.string().optional(),
        duration: z.string().optional(),
      }),
    )
    .default([]),
});

function parseSeconds(value: string | undefined): number | null {
  if (value === undefined) return null;
  const seconds = Number(value);
  return Number.isFinite(seconds) && seconds >= 0 ? seconds : null;
}

/** Reads a recording's container and streams with ffprobe; never trusts a duration sent by the client. */
export async function probeMedia(inputPath: string, options: ProbeOptions = {}): Promise<MediaProbe> {
  const info = await stat(inputPath).catch((error: unknown) => {
    throw new AppError('INPUT_UNREADABLE', undefined, { cause: error });
  });
  if (!info.isFile() || info.size === 0) throw new AppError('INPUT_UNREADABLE', 'The file is empty.');

  let stdout: Buffer;
  try {
    ({ stdout } = await runChildProcess(
      'ffprobe',
      ['-v', 'error', '-print_format', 'json', '-show_format', '-show_streams', inputPath],
      { signal: options.signal, timeoutMs: options.timeoutMs ?? DEFAULT_PROBE_TIMEOUT_MS },
    ));
  } catch (error) {
    throw toolFailure(error, 'MEDIA_DECODE_FAILED');
  }

  let parsed: z.infer<typeof ffprobeOutputSchema>;
  try {
    parsed = ffprobeOutputSchema.parse(JSON.parse(stdout.toString('utf8')));
  } catch (error) {
    throw new AppError('MEDIA_DECODE_FAILED', undefined, { cause: error });
  }

  const audio = parsed.streams.find((stream) => stream.codec_type === 'audio');
  if (!audio) throw new AppError('MEDIA_NO_AUDIO');

  const streamDurations = parsed.streams
    .map((stream) => parseSeconds(stream.duration))
    .filter((seconds): seconds is number => seconds !== null);
  const durationSec =
    parseSeconds(parsed.format?.duration) ?? (streamDurations.length ? Math.max(...streamDurations) : null);

  return {
    durationSec,
    audioDurationSec: parseSeconds(audio.duration),
    hasAudio: true,
    audioCodec: audio.codec_name ?? 'unknown',
    formatName: parsed.format?.format_name ?? 'unknown',
  };
}
