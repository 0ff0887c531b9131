import { open } from 'node:fs/promises';

const HEADER_BYTES_READ = 4096;

/**
 * Byte offset where the samples of a RIFF/WAVE file start, found by walking its chunks
 * (ffmpeg may write a LIST chunk before `data`, so 44 is not a constant). Null when not a WAV.
 */
export async function readWavDataOffset(wavPath: string): Promise<number | null> {
  const file = await open(wavPath, 'r');
  try {
    const header = Buffer.alloc(HEADER_BYTES_READ);
    const { bytesRead } = await file.read(header, 0, HEADER_BYTES_READ, 0);
    return findDataOffset(header.subarray(0, bytesRead));
  } finally {
    await file.close();
  }
}

export function findDataOffset(header: Buffer): number | null {
  if (
    header.length < 12 ||
    header.toString('latin1', 0, 4) !== 'RIFF' ||
    header.toString('latin1', 8, 12) !== 'WAVE'
  ) {
    return null;
  }
  let offset = 12;
  while (offset + 8 <= header.length) {
    const id = header.toString('latin1', offset, offset + 4);
    const size = header.readUInt32LE(offset + 4);
    if (id === 'data') return offset + 8;
    // Chunks are padded to an even size.
    offset += 8 + size + (size % 2);
  }
  return null;
}
