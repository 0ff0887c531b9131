import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { readWavDataOffset } from './read-wav-data-offset.js';

/** 16 kHz mono 16-bit PCM, as `decodeToWav` writes it. */
export const PCM_SAMPLE_RATE = 16_000;
export const PCM_BYTES_PER_SAMPLE = 2;
/** 20 ms frames: short enough to find the gap between two words, 50 values per second of audio. */
export const ENERGY_FRAME_SEC = 0.02;
const SAMPLES_PER_FRAME = PCM_SAMPLE_RATE * ENERGY_FRAME_SEC;

export interface WavEnergy {
  /** Mean power of each 20 ms frame, on a 0–1 scale (full-scale square wave = 1). */
  framePower: Float32Array;
  frameSec: number;
  durationSec: number;
  /** SHA-256 of the samples: identifies the audio for checkpoints without keeping it. */
  sha256: string;
}

/**
 * Streams a 16 kHz mono WAV once and keeps only one number per 20 ms (4 h of audio → 2.9 MB),
 * so silences can be found without holding the samples in memory.
 */
export async function measureWavEnergy(
  wavPath: string,
  options: { signal?: AbortSignal } = {},
): Promise<WavEnergy> {
  const dataOffset = (await readWavDataOffset(wavPath)) ?? 44;
  const hash = createHash('sha256');
  const powers: number[] = [];
  let frameSum = 0;
  let frameCount = 0;
  let carry: Buffer | null = null;
  let samples = 0;
  const stream = createReadStream(wavPath, {
    start: dataOffset,
    highWaterMark: 1 << 20,
    signal: options.signal,
  });
  for await (const piece of stream as AsyncIterable<Buffer>) {
    hash.update(piece);
    const buffer: Buffer = carry ? Buffer.concat([carry, piece]) : piece;
    const usable = buffer.length - (buffer.length % PCM_BYTES_PER_SAMPLE);
    for (let offset = 0; offset < usable; offset += PCM_BYTES_PER_SAMPLE) {
      const sample = buffer.readInt16LE(offset) / 32768;
      frameSum += sample * sample;
      frameCount += 1;
      if (frameCount === SAMPLES_PER_FRAME) {
        powers.push(frameSum / frameCount);
        frameSum = 0;
        frameCount = 0;
      }
    }
    samples += usable / PCM_BYTES_PER_SAMPLE;
    carry = usable < buffer.length ? buffer.subarray(usable) : null;
  }
  if (frameCount > 0) powers.push(frameSum / frameCount);
  return {
    framePower: Float32Array.from(powers),
    frameSec: ENERGY_FRAME_SEC,
    durationSec: samples / PCM_SAMPLE_RATE,
    sha256: hash.digest('hex'),
  };
}
