import { AppError } from '../contract/index.js';
import { formatMediaClock } from './format-media-clock.js';

const roundMs = (seconds: number) => Math.round(seconds * 1000) / 1000;

/**
 * `MEDIA_TOO_LONG` naming the measured length and the limit: one wording for the refusal at upload
 * (ffprobe on the stored file) and the worker's (ffprobe, then the decoded length).
 */
export function mediaTooLong(durationSec: number, maxDurationSec: number): AppError {
  return new AppError(
    'MEDIA_TOO_LONG',
    `The recording lasts ${formatMediaClock(durationSec)}; this service accepts up to ${formatMediaClock(maxDurationSec)}.`,
    { details: { media_duration_sec: roundMs(durationSec), max_duration_sec: maxDurationSec } },
  );
}
