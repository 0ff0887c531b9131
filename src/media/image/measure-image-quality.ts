import { runChildProcess } from '../../process/run-child-process.js';

/** Width the page is scaled to before measuring: enough for text edges, small enough to be quick. */
const MEASURE_WIDTH = 1000;

export interface ImageQuality {
  /** Background (median) minus ink (darkest 0.1 % of pixels), 0–255: low means a faded, low-contrast scan. */
  contrast: number;
  /** Strongest edges relative to contrast, 0–1: low means a blurred scan. */
  sharpness: number;
}

/** Contrast and sharpness of an image (any format ffmpeg decodes), measured on a greyscale thumbnail. */
export async function measureImageQuality(
  imagePath: string,
  options: { signal?: AbortSignal } = {},
): Promise<ImageQuality> {
  const { stdout } = await runChildProcess(
    'ffmpeg',
    [
      '-nostdin',
      '-v',
      'error',
      '-i',
      imagePath,
      '-frames:v',
      '1',
      '-vf',
      `scale=${MEASURE_WIDTH}:-2:flags=area,format=gray`,
      '-f',
      'rawvideo',
      '-',
    ],
    { timeoutMs: 60_000, ...(options.signal ? { signal: options.signal } : {}) },
  );
  return qualityOfGreyPixels(stdout, MEASURE_WIDTH);
}

function percentile(histogram: Uint32Array, total: number, share: number): number {
  let seen = 0;
  for (let value = 0; value < histogram.length; value++) {
    seen += histogram[value] ?? 0;
    if (seen >= total * share) return value;
  }
  return histogram.length - 1;
}

/** The measures from raw 8-bit grey pixels, row by row. */
export function qualityOfGreyPixels(pixels: Uint8Array, width: number): ImageQuality {
  const height = Math.floor(pixels.length / width);
  const levels = new Uint32Array(256);
  for (const value of pixels) levels[value] = (levels[value] ?? 0) + 1;
  const total = width * height;
  const contrast = percentile(levels, total, 0.5) - percentile(levels, total, 0.001);
  const gradients = new Uint32Array(511);
  let counted = 0;
  for (let y = 0; y < height - 1; y++) {
    for (let x = 0; x < width - 1; x++) {
      const i = y * width + x;
      const here = pixels[i] ?? 0;
      const g = Math.max(Math.abs(here - (pixels[i + 1] ?? 0)), Math.abs(here - (pixels[i + width] ?? 0)));
      gradients[g] = (gradients[g] ?? 0) + 1;
      counted++;
    }
  }
  const strongEdge = percentile(gradients, counted, 0.999);
  return { contrast, sharpness: contrast > 0 ? Math.min(1, strongEdge / contrast) : 0 };
}
