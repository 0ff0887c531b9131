import { open } from 'node:fs/promises';

export interface TiffPageSize {
  page: number;
  width: number;
  height: number;
}

/** More IFDs than this is not a scan but a loop or a bomb: the walk stops and says so. */
const MAX_IFDS = 100_000;

/**
 * Width and height of every page (IFD) of a classic TIFF, read from its directories only, without
 * decoding any image: a multi-page TIFF can hide a huge page behind a small first one. Returns
 * null when the file is not a readable classic TIFF (BigTIFF included: the decoders report it).
 * Stops at a directory loop; `truncated` says the walk gave up before the last page.
 */
export async function readTiffPageSizes(
  filePath: string,
): Promise<{ pages: TiffPageSize[]; truncated: boolean } | null> {
  const file = await open(filePath, 'r');
  try {
    const { size } = await file.stat();
    const read = async (offset: number, length: number): Promise<Buffer | null> => {
      if (offset < 0 || offset + length > size) return null;
      const buffer = Buffer.alloc(length);
      const { bytesRead } = await file.read(buffer, 0, length, offset);
      return bytesRead === length ? buffer : null;
    };
    const header = await read(0, 8);
    if (!header) return null;
    const order = header.toString('latin1', 0, 2);
    if (order !== 'II' && order !== 'MM') return null;
    const le = order === 'II';
    const u16 = (b: Buffer, at: number) => (le ? b.readUInt16LE(at) : b.readUInt16BE(at));
    const u32 = (b: Buffer, at: number) => (le ? b.readUInt32LE(at) : b.readUInt32BE(at));
    if (u16(header, 2) !== 42) return null;
    const pages: TiffPageSize[] = [];
    const seen = new Set<number>();
    let offset = u32(header, 4);
    while (offset !== 0) {
      if (seen.has(offset) || pages.length >= MAX_IFDS) return { pages, truncated: true };
      seen.add(offset);
      const countBytes = await read(offset, 2);
      if (!countBytes) return { pages, truncated: true };
      const count = u16(countBytes, 0);
      const entries = await read(offset + 2, count * 12 + 4);
      if (!entries) return { pages, truncated: true };
      let width = 0;
      let height = 0;
      for (let i = 0; i < count; i += 1) {
        const at = i * 12;
        const tag = u16(entries, at);
        if (tag !== 256 && tag !== 257) continue;
        // SHORT (3) or LONG (4), one value, held in the entry itself.
        const type = u16(entries, at + 2);
        const value = type === 3 ? u16(entries, at + 8) : u32(entries, at + 8);
        if (tag === 256) width = value;
        else height = value;
      }
      pages.push({ page: pages.length + 1, width, height });
      offset = u32(entries, count * 12);
    }
    return { pages, truncated: false };
  } finally {
    await file.close();
  }
}
