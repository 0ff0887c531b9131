import { chmod, mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { TesseractEngine } from '../../src/engines/ocr/tesseract-engine.js';
import { readImagePixels } from '../../src/media/image/read-image-pixels.js';

/** One page reading the engine asked tesseract for. */
export interface TesseractRead {
  psm: string;
  dpi: string | null;
  /** Pixels of the image tesseract was given (a copy is kept: the pipeline deletes its own). */
  pixels: number | null;
}

export interface RecordingTesseract {
  engine: TesseractEngine;
  /** The page readings so far, in order (language listing, version and script detection left out). */
  reads(): Promise<TesseractRead[]>;
}

/**
 * The real tesseract behind a wrapper script that records each reading's psm, dpi and input image.
 * `blindPsm`: readings in that psm are given `blankImage` instead of the page, as when psm 3 drops
 * the text of a page another mode reads, so a test decides which reading is the weak one.
 */
export async function makeRecordingTesseract(
  dir: string,
  options: { blindPsm?: string; blankImage?: string } = {},
): Promise<RecordingTesseract> {
  await mkdir(dir, { recursive: true });
  const log = path.join(dir, 'reads.log');
  await writeFile(log, '');
  const script = path.join(dir, 'tesseract');
  await writeFile(
    script,
    `#!/bin/bash
case "$1" in --version|--list-langs) exec tesseract "$@";; esac
psm=""; dpi=""; prev=""
for a in "$@"; do
  [ "$prev" = "--psm" ] && psm="$a"
  [ "$prev" = "--dpi" ] && dpi="$a"
  prev="$a"
done
[ "$psm" = "0" ] && exec tesseract "$@"
n=$(wc -l < '${log}')
copy='${dir}'/read-$n.png
cp "$1" "$copy"
echo "$psm $dpi $copy" >> '${log}'
if [ -n '${options.blindPsm ?? ''}' ] && [ "$psm" = '${options.blindPsm ?? ''}' ]; then
  shift
  exec tesseract '${options.blankImage ?? ''}' "$@"
fi
exec tesseract "$@"
`,
  );
  await chmod(script, 0o755);
  return {
    engine: new TesseractEngine(script),
    reads: async () => {
      const lines = (await readFile(log, 'utf8')).split('\n').filter(Boolean);
      return Promise.all(
        lines.map(async (line) => {
          const [psm = '', dpi = '', image = ''] = line.split(' ');
          return { psm, dpi: dpi || null, pixels: await readImagePixels(image) };
        }),
      );
    },
  };
}
