import { createReadStream, createWriteStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { pipeline } from 'node:stream/promises';
import { PCM_BYTES_PER_SAMPLE, PCM_SAMPLE_RATE } from './measure-wav-energy.js';
import { readWavDataOffset } from './read-wav-data-offset.js';

/** A plain 44-byte RIFF header for 16 kHz mono 16-bit PCM of `dataBytes` bytes. */
export function pcmWavHeader(dataBytes: number): Buffer {
  const header = Buffer.alloc(44);
  header.write('RIFF', 0, 'latin1');
  header.writeUInt32LE(36 + dataBytes, 4);
  header.write('WAVE', 8, 'latin1');
  header.write('fmt ', 12, 'latin1');
  header.writeUInt32LE(16, 16);
  header.writeUInt16LE(1, 20);
  header.writeUInt16LE(1, 22);
  header.writeUInt32LE(PCM_SAMPLE_RATE, 24);
  header.writeUInt32LE(PCM_SAMPLE_RATE * PCM_BYTES_PER_SAMPLE, 28);
  header.writeUInt16LE(PCM_BYTES_PER_SAMPLE, 32);
  header.writeUInt16LE(16, 34);
  header.write('data', 36, 'latin1');
  header.writeUInt32LE(dataBytes, 40);
  return header;
}

/**
 * Copies `[startSec, endSec)` of a 16 kHz mono WAV into a new WAV file by byte range: no ffmpeg
 * run per chunk, no re-encoding, and nothing but a stream buffer in memory.
 */
export async function writeWavSlice(
  sourceWav: string,
  targetWav: string,
  startSec: number,
  endSec: number,
  options: { signal?: AbortSignal } = {},
): Promise<{ path: string; durationSec: number }> {
  const dataOffset = (await readWavDataOffset(sourceWav)) ?? 44;
  const firstSample = Math.max(0, Math.round(startSec * PCM_SAMPLE_RATE));
  const { size } = await stat(sourceWav);
  const totalSamples = Math.floor((size - dataOffset) / PCM_BYTES_PER_SAMPLE);
  const lastSample = Math.min(totalSamples, Math.max(firstSample, Math.round(endSec * PCM_SAMPLE_RATE)));
  const dataBytes = Math.max(0, lastSample - firstSample) * PCM_BYTES_PER_SAMPLE;
  const out = createWriteStream(targetWav, { flags: 'wx' });
  out.write(pcmWavHeader(dataBytes));
  if (dataBytes > 0) {
    const start = dataOffset + firstSample * PCM_BYTES_PER_SAMPLE;
    await pipeline(createReadStream(sourceWav, { start, end: start + dataBytes - 1 }), out, {
      signal: options.signal,
    });
  } else {
    await new Promise<void>((resolve, reject) =>
      out.end((error?: Error | null) => (error ? reject(error) : resolve())),
    );
  }
  return { path: targetWav, durationSec: dataBytes / (PCM_SAMPLE_RATE * PCM_BYTES_PER_SAMPLE) };
}
