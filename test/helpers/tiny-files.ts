/** Smallest files that are recognised by content: for API tests in which nothing is processed. */

// A 1×1 grey PNG.
export const TINY_PNG = Buffer.from(
  '89504e470d0a1a0a0000000d49484452000000010000000108000000003a7e9b550000000a49444154789c63600000000200' +
    '01e221bc330000000049454e44ae426082',
  'hex',
);

/** A valid 16 kHz mono 16-bit WAV of `samples` silent samples. */
export function tinyWav(samples = 1600): Buffer {
  const data = samples * 2;
  const wav = Buffer.alloc(44 + data);
  wav.write('RIFF', 0, 'ascii');
  wav.writeUInt32LE(36 + data, 4);
  wav.write('WAVE', 8, 'ascii');
  wav.write('fmt ', 12, 'ascii');
  wav.writeUInt32LE(16, 16);
  wav.writeUInt16LE(1, 20);
  wav.writeUInt16LE(1, 22);
  wav.writeUInt32LE(16_000, 24);
  wav.writeUInt32LE(32_000, 28);
  wav.writeUInt16LE(2, 32);
  wav.writeUInt16LE(16, 34);
  wav.write('data', 36, 'ascii');
  wav.writeUInt32LE(data, 40);
  return wav;
}

/** A little-endian TIFF of 8-bit grey pages of the given sizes, all pointing at one tiny strip. */
export function tiffOf(sizes: Array<[number, number]>): Buffer {
  const strip = Buffer.alloc(100, 0x80);
  const ifdSize = 2 + 9 * 12 + 4;
  const header = Buffer.alloc(8);
  header.write('II', 0, 'latin1');
  header.writeUInt16LE(42, 2);
  header.writeUInt32LE(8 + strip.length, 4);
  const ifds = sizes.map(([width, height], index) => {
    const ifd = Buffer.alloc(ifdSize);
    const entries: Array<[number, number, number]> = [
      [256, 4, width],
      [257, 4, height],
      [258, 3, 8],
      [259, 3, 1],
      [262, 3, 1],
      [273, 4, 8],
      [277, 3, 1],
      [278, 4, height],
      [279, 4, strip.length],
    ];
    ifd.writeUInt16LE(entries.length, 0);
    entries.forEach(([tag, type, value], i) => {
      const at = 2 + i * 12;
      ifd.writeUInt16LE(tag, at);
      ifd.writeUInt16LE(type, at + 2);
      ifd.writeUInt32LE(1, at + 4);
      if (type === 3) ifd.writeUInt16LE(value, at + 8);
      else ifd.writeUInt32LE(value, at + 8);
    });
    const next = index + 1 < sizes.length ? 8 + strip.length + (index + 1) * ifdSize : 0;
    ifd.writeUInt32LE(next, 2 + entries.length * 12);
    return ifd;
  });
  return Buffer.concat([header, strip, ...ifds]);
}
