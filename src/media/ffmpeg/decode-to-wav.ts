import { stat } from 'node:fs/promises';
import { AppError } from '../../contract/index.js';
import type { Logger } from '../../observability/logger.js';
import { runChildProcess } from '../../process/run-child-process.js';
import { toolFailure } from '../../process/tool-failure.js';
import { readWavDataOffset } from './read-wav-data-offset.js';

/** 16 kHz × 1 channel × 2 bytes: what every speech engine here expects. */
const WAV_BYTES_PER_SECOND = 32_000;
/** Decoding below this share of the probed duration suggests a truncated upload. */
const TRUNCATION_RATIO = 0.9;
/** ffmpeg decodes ~1000× real time here; a run slower than this much headroom is hung. */
const TIMEOUT_BASE_MS = 60_000;
const TIMEOUT_MS_PER_AUDIO_SEC = 100;

export interface DecodeOptions {
  signal?: AbortSignal;
  /** Probed duration: a file that decodes much shorter than this is reported as suspect. */
  expectedDurationSec?: number | null;
  /** Decoding stops one second past this, so a file without a duration header cannot run on for hours. */
  maxDurationSec?: number;
  /** Seconds of audio decoded so far, from ffmpeg's `-progress` output. */
  onProgress?: (decodedSec: number) => void;
  logger?: Logger;
  timeoutMs?: number;
}

export interface DecodedAudio {
  wavPath: string;
  /** Measured from the samples written, not from any header. */
  decodedDurationSec: number;
  expectedDurationSec: number | null;
  truncatedSuspected: boolean;
}

/**
 * Decodes the first audio track of any recording (video streams are dropped) to 16 kHz mono
 * 16-bit PCM WAV. A truncated MP3 makes ffmpeg exit 0 with only what is there, hence the
 * measured duration next to the probed one.
 */
export async function decodeToWav(
  inputPath: string,
  wavPath: string,
  options: DecodeOptions = {},
): Promise<DecodedAudio> {
  const expectedDurationSec = options.expectedDurationSec ?? null;
  const limitArgs = options.maxDurationSec === undefined ? [] : ['-t', String(options.maxDurationSec + 1)];
  const ceilingSec = expectedDurationSec ?? options.maxDurationSec ?? 3600;
  try {
    await runChildProcess(
      'ffmpeg',
      [
        '-nostdin',
        '-v',
        'error',
        '-nostats',
        '-progress',
        'pipe:1',
        '-i',
        inputPath,
        '-vn',
        '-sn',
        '-dn',
        ...limitArgs,
        '-ac',
        '1',
        '-ar',
        '16000',
        '-c:a',
        'pcm_s16le',
        // No LIST/encoder chunk: a plain 44-byte header that every engine reads.
        '-bitexact',
        '-f',
        'wav',
        '-y',
        wavPath,
      ],
      {
        signal: options.signal,
        timeoutMs: options.timeoutMs ?? TIMEOUT_BASE_MS + TIMEOUT_MS_PER_AUDIO_SEC * ceilingSec,
        onStdoutLine: (line) => {
          const match = /^out_time_us=(\d+)$/.exec(line);
          if (match) options.onProgress?.(Number(match[1]) / 1e6);
        },
      },
    );
  } catch (error) {
    throw toolFailure(error, 'MEDIA_DECODE_FAILED');
  }

  const dataOffset = await readWavDataOffset(wavPath);
  const { size } = await stat(wavPath);
  if (dataOffset === null) throw new AppError('MEDIA_DECODE_FAILED', 'The decoded audio is not a WAV file.');
  const decodedDurationSec = Math.max(0, size - dataOffset) / WAV_BYTES_PER_SECOND;
  if (decodedDurationSec === 0) throw new AppError('MEDIA_DECODE_FAILED', 'No audio could be decoded.');

  const truncatedSuspected =
    expectedDurationSec !== null && decodedDurationSec < TRUNCATION_RATIO * expectedDurationSec;
  if (truncatedSuspected) {
    options.logger?.warn(
      {
        event: 'media.truncated_suspected',
        decoded_duration_sec: decodedDurationSec,
        probed_duration_sec: expectedDurationSec,
      },
      'recording decodes shorter than its header says',
    );
  }
  return { wavPath, decodedDurationSec, expectedDurationSec, truncatedSuspected };
}
