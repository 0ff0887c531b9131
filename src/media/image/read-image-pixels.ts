import { imageSizeFromFile } from 'image-size/fromFile';

/**
 * Width × height of an image (PNG, JPEG, TIFF, WebP, BMP…) read from its header only, without
 * decoding it: how a decompression bomb is recognised before any tool expands it. Null when the
 * header cannot be read (the decoding step then reports the damage).
 */
export async function readImagePixels(filePath: string): Promise<number | null> {
  try {
    const { width, height } = await imageSizeFromFile(filePath);
    return width > 0 && height > 0 ? width * height : null;
  } catch {
    return null;
  }
}
