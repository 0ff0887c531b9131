import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  makeCorruptAudio,
  makeSpokenMp4Video,
  makeTruncatedMp3,
} from '../../../test/helpers/make-media-fixtures.js';
import { AppError } from '../../contract/index.js';
import { createLogger } from '../../observability/logger.js';
import { decodeToWav } from './decode-to-wav.js';
import { probeMedia } from './probe-media.js';

const TEXT = 'the quick brown fox jumps over the lazy dog near the river bank';
let dir: string;

beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'dt-decode-'));
});

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('decodeToWav', () => {
  it('decodes the audio track of a video to 16 kHz mono and measures its length', async () => {
    const video = await makeSpokenMp4Video(dir, TEXT);
    const probe = await probeMedia(video);
    const decoded = await decodeToWav(video, path.join(dir, 'video.wav'), {
      expectedDurationSec: probe.durationSec,
    });
    const again = await probeMedia(decoded.wavPath);
    expect(again.audioCodec).toBe('pcm_s16le');
    expect(decoded.decodedDurationSec).toBeCloseTo(again.durationSec ?? 0, 2);
    expect(decoded.truncatedSuspected).toBe(false);
  });

  it('reports a truncated MP3 that ffmpeg decodes without complaint', async () => {
    const truncated = await makeTruncatedMp3(dir, TEXT, 0.4);
    const probe = await probeMedia(truncated);
    const lines: string[] = [];
    const logger = createLogger({
      level: 'info',
      role: 'test',
      destination: { write: (line) => lines.push(line) },
    });
    const decoded = await decodeToWav(truncated, path.join(dir, 'truncated.wav'), {
      expectedDurationSec: probe.durationSec,
      logger,
    });
    expect(decoded.truncatedSuspected).toBe(true);
    expect(decoded.decodedDurationSec).toBeLessThan(0.9 * (probe.durationSec ?? 0));
    const warning = lines
      .map((line) => JSON.parse(line))
      .find((entry) => entry.event === 'media.truncated_suspected');
    expect(warning).toMatchObject({ level: 'warn', probed_duration_sec: probe.durationSec });
  });

  it('refuses a file that only looks like a WAV', async () => {
    const corrupt = await makeCorruptAudio(dir);
    const error = await decodeToWav(corrupt, path.join(dir, 'corrupt.wav')).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(AppError);
    expect((error as AppError).code).toBe('MEDIA_DECODE_FAILED');
  });
});
