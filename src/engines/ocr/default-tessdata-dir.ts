import { readdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';

/** Debian's traineddata (package tesseract-ocr-*), read uncompressed: nothing is downloaded. */
export const DEBIAN_TESSDATA = '/usr/share/tesseract-ocr/5/tessdata';

/** English traineddata shipped through npm (a dependency), for machines without Debian's. */
const NPM_TESSDATA_PACKAGE = '@tesseract.js-data/eng';

/** The LSTM-only integer model: tesseract.js runs LSTM only, and it is 3 MB instead of 11 MB. */
const NPM_TESSDATA_MODEL = '4.0.0_best_int';

/** The folder of the npm traineddata package (`<lang>.traineddata.gz` files). */
export function npmTessdataDir(): string {
  const manifest = createRequire(import.meta.url).resolve(`${NPM_TESSDATA_PACKAGE}/package.json`);
  return path.join(path.dirname(manifest), NPM_TESSDATA_MODEL);
}

function hasTraineddata(dir: string): boolean {
  try {
    return readdirSync(dir).some((file) => file.endsWith('.traineddata'));
  } catch {
    // A folder that is absent or unreadable has none.
    return false;
  }
}

/** tesseract.js's traineddata folder when OCR_TESSDATA_DIR is unset: Debian's when it has any, else npm's. */
export function defaultTessdataDir(debianDir: string = DEBIAN_TESSDATA): string {
  return hasTraineddata(debianDir) ? debianDir : npmTessdataDir();
}
