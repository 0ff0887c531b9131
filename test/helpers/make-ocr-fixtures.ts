import { execFile } from 'node:child_process';
import { createWriteStream } from 'node:fs';
import { readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import PDFDocument from 'pdfkit';

const run = promisify(execFile);
const FONT_DIR = '/usr/share/fonts/truetype/noto';
export const LATIN_FONT = path.join(FONT_DIR, 'NotoSans-Regular.ttf');
export const DEVANAGARI_FONT = path.join(FONT_DIR, 'NotoSansDevanagari-Regular.ttf');

export const ENGLISH_PAGES = [
  'The archive keeps old books and recorded talks. Volunteers scan every page with care so that the text can be read and searched by anyone.',
  'Each morning the library opens its doors to readers who come from nearby villages. They borrow books about history, science and poetry.',
  'A good scan is sharp and straight. When the paper is yellow and the ink has faded, the scanner must use more light and a higher resolution.',
  'The committee met on Sunday to plan the new reading room. Forty chairs, six long tables and a quiet corner for children were approved.',
];
export const HINDI_PAGES = [
  'यह पुस्तक बहुत पुरानी है। स्वयंसेवक हर पृष्ठ को ध्यान से पढ़ते हैं ताकि ज्ञान सबके लिए सुरक्षित रहे।',
  'पुस्तकालय में हर दिन बच्चे आते हैं और नई कहानियाँ पढ़ते हैं। शिक्षक उन्हें अच्छी पुस्तकें चुनने में मदद करते हैं।',
];

/** A page of a generated PDF: born-digital text, or a full-page image (a "scan"). */
export type FixturePage = { text: string; font: string; fontSize?: number } | { image: string };

export function writePdf(
  filePath: string,
  pages: readonly FixturePage[],
  options: {
    userPassword?: string;
    ownerPassword?: string;
    compress?: boolean;
    size?: [number, number] | 'A4';
  } = {},
): Promise<void> {
  const { size = 'A4', ...pdfOptions } = options;
  return new Promise((resolve, reject) => {
    const doc = new PDFDocument({ autoFirstPage: false, size, margin: 48, ...pdfOptions });
    const out = createWriteStream(filePath);
    out.on('finish', resolve);
    out.on('error', reject);
    doc.pipe(out);
    for (const page of pages) {
      doc.addPage();
      if ('image' in page) {
        doc.image(page.image, 0, 0, { width: doc.page.width, height: doc.page.height });
      } else {
        doc
          .font(page.font)
          .fontSize(page.fontSize ?? 16)
          .text(page.text, { lineGap: 6 });
      }
    }
    doc.end();
  });
}

/** Small pages (A6) keep rendering and OCR quick while text stays at a normal size. */
const A6: [number, number] = [297.64, 419.53];

export interface ScanOptions {
  /** Degrees of rotation, as a sheet laid slightly askew. */
  rotateDeg?: number;
  /** ffmpeg noise strength (0–100): grain of an old scan. */
  noise?: number;
  /** Gaussian blur sigma: an out-of-focus scan. */
  blur?: number;
  /** Contrast factor (<1 fades the ink). */
  contrast?: number;
  dpi?: number;
}

/** A scanned-looking greyscale PNG of a text: typeset, rendered, then degraded by ffmpeg filters. */
export async function makeScanImage(
  dir: string,
  name: string,
  text: string,
  font: string,
  scan: ScanOptions = {},
): Promise<string> {
  const source = path.join(dir, `${name}-source.pdf`);
  await writePdf(source, [{ text, font, fontSize: 13 }], { size: A6 });
  const clean = path.join(dir, `${name}-clean`);
  await run('pdftoppm', ['-r', String(scan.dpi ?? 300), '-gray', '-png', '-singlefile', source, clean]);
  const filters: string[] = [];
  if (scan.rotateDeg) filters.push(`rotate=${(scan.rotateDeg * Math.PI) / 180}:fillcolor=white`);
  if (scan.blur) filters.push(`gblur=sigma=${scan.blur}`);
  if (scan.contrast) filters.push(`eq=contrast=${scan.contrast}`);
  if (scan.noise) filters.push(`noise=alls=${scan.noise}:allf=t`);
  const out = path.join(dir, `${name}.png`);
  if (filters.length === 0) {
    await rename(`${clean}.png`, out);
  } else {
    await run('ffmpeg', [
      '-nostdin',
      '-v',
      'error',
      '-y',
      '-i',
      `${clean}.png`,
      '-vf',
      filters.join(','),
      '-pix_fmt',
      'gray',
      out,
    ]);
    await rm(`${clean}.png`, { force: true });
  }
  await rm(source, { force: true });
  return out;
}

/** Converts an image to another format with ffmpeg (webp, bmp, jpg, tif). */
export async function convertImage(input: string, output: string): Promise<string> {
  await run('ffmpeg', ['-nostdin', '-v', 'error', '-y', '-i', input, '-pix_fmt', 'gray', output]);
  return output;
}

/** A multi-page bilevel TIFF compressed with CCITT G4, as fax-era archives hold. */
export async function makeG4Tiff(dir: string, pngs: readonly string[]): Promise<string> {
  const pages: string[] = [];
  for (const [i, png] of pngs.entries()) {
    const tif = path.join(dir, `g4-src-${i}.tif`);
    // Threshold to black and white (G4 is bilevel), then let libtiff write G4.
    await run('ffmpeg', [
      '-nostdin',
      '-v',
      'error',
      '-y',
      '-i',
      png,
      '-pix_fmt',
      'monob',
      '-compression_algo',
      'packbits',
      tif,
    ]);
    pages.push(tif);
  }
  const out = path.join(dir, 'multi-g4.tif');
  await run('tiffcp', ['-c', 'g4', ...pages, out]);
  for (const page of pages) await rm(page, { force: true });
  return out;
}

/**
 * Removes the /ToUnicode maps of an uncompressed PDF (same byte length, so the xref stays valid):
 * its text then extracts as glyph ids, like a PDF typeset with a legacy font.
 */
export async function breakTextEncoding(pdfPath: string): Promise<void> {
  const bytes = await readFile(pdfPath, 'latin1');
  await writeFile(pdfPath, bytes.replace(/\/ToUnicode (\d+) 0 R/g, '/XoUnicode $1 0 R'), 'latin1');
}

export interface MixedPdf {
  path: string;
  /** Expected text per page (1-based index − 1) and how the page was made. */
  pages: Array<{ text: string; kind: 'digital-en' | 'digital-hi' | 'scan-clean' | 'scan-noisy' | 'scan-hi' }>;
}

/**
 * A mixed document: born-digital English, born-digital Devanagari, and scanned pages (clean,
 * rotated with noise, Devanagari) as full-page images.
 */
export async function makeMixedPdf(dir: string): Promise<MixedPdf> {
  const scanClean = await makeScanImage(dir, 'mixed-scan-clean', ENGLISH_PAGES[1] as string, LATIN_FONT);
  const scanNoisy = await makeScanImage(dir, 'mixed-scan-noisy', ENGLISH_PAGES[2] as string, LATIN_FONT, {
    rotateDeg: 0.6,
    noise: 18,
  });
  const scanHindi = await makeScanImage(dir, 'mixed-scan-hi', HINDI_PAGES[1] as string, DEVANAGARI_FONT);
  const pages: MixedPdf['pages'] = [
    { text: ENGLISH_PAGES[0] as string, kind: 'digital-en' },
    { text: HINDI_PAGES[0] as string, kind: 'digital-hi' },
    { text: ENGLISH_PAGES[1] as string, kind: 'scan-clean' },
    { text: ENGLISH_PAGES[2] as string, kind: 'scan-noisy' },
    { text: HINDI_PAGES[1] as string, kind: 'scan-hi' },
  ];
  const filePath = path.join(dir, 'mixed.pdf');
  await writePdf(
    filePath,
    [
      { text: ENGLISH_PAGES[0] as string, font: LATIN_FONT, fontSize: 13 },
      { text: HINDI_PAGES[0] as string, font: DEVANAGARI_FONT, fontSize: 13 },
      { image: scanClean },
      { image: scanNoisy },
      { image: scanHindi },
    ],
    { size: A6 },
  );
  return { path: filePath, pages };
}

/** An English born-digital PDF whose text layer is unusable (no Unicode mapping). */
export async function makeBrokenEncodingPdf(dir: string): Promise<{ path: string; text: string }> {
  const filePath = path.join(dir, 'broken-encoding.pdf');
  const text = ENGLISH_PAGES[3] as string;
  await writePdf(filePath, [{ text, font: LATIN_FONT, fontSize: 13 }], { compress: false, size: A6 });
  await breakTextEncoding(filePath);
  return { path: filePath, text };
}

/** A born-digital English PDF of `pageCount` small pages, for tests and benchmarks of the text layer. */
export async function makeBornDigitalPdf(dir: string, pageCount: number): Promise<string> {
  const filePath = path.join(dir, `born-digital-${pageCount}.pdf`);
  await writePdf(
    filePath,
    Array.from({ length: pageCount }, (_, i) => ({
      text: `${ENGLISH_PAGES[i % ENGLISH_PAGES.length]} (${i + 1})`,
      font: LATIN_FONT,
      fontSize: 13,
    })),
    { size: A6 },
  );
  return filePath;
}

/** A PDF of `count` scanned pages (images only), for resume and benchmark runs. */
export async function makeScannedPdf(
  dir: string,
  count: number,
  scan: ScanOptions = {},
): Promise<{ path: string; texts: string[] }> {
  const texts = Array.from({ length: count }, (_, i) => ENGLISH_PAGES[i % ENGLISH_PAGES.length] as string);
  const images: string[] = [];
  for (const [i, text] of texts.entries())
    images.push(await makeScanImage(dir, `scanned-${count}-${i}`, text, LATIN_FONT, scan));
  const filePath = path.join(dir, `scanned-${count}.pdf`);
  await writePdf(
    filePath,
    images.map((image) => ({ image })),
    { size: A6 },
  );
  return { path: filePath, texts };
}

/**
 * A PDF poppler refuses but qpdf can repair: every cross-reference offset is wrong, and the page
 * tree's /Count says 0 (poppler trusts it; qpdf rebuilds the tree from the pages it finds).
 */
export async function breakPdfStructure(source: string, target: string): Promise<string> {
  const bytes = await readFile(source, 'latin1');
  const xref = bytes.lastIndexOf('\nxref\n');
  const trailer = bytes.indexOf('trailer', xref);
  if (xref < 0 || trailer < 0 || !/\/Type \/Pages\n\/Count \d+/.test(bytes)) {
    throw new Error(`${source} has no classic xref table or page tree count to break`);
  }
  const offsets = bytes.slice(xref, trailer).replace(/\d{10} (\d{5}) n/g, '0000000999 $1 n');
  const damaged = (bytes.slice(0, xref) + offsets + bytes.slice(trailer)).replace(
    /(\/Type \/Pages\n\/Count )\d+/,
    (_, head: string) => `${head}0`,
  );
  await writeFile(target, damaged, 'latin1');
  return target;
}

/** The first `share` of a file's bytes: a download cut short. */
export async function truncateFile(source: string, target: string, share: number): Promise<string> {
  const bytes = await readFile(source);
  const size = (await stat(source)).size;
  await writeFile(target, bytes.subarray(0, Math.floor(size * share)));
  return target;
}

export type MixedPageKind = 'digital-en' | 'digital-hi' | 'scan-clean' | 'scan-noisy';

/**
 * A 30-page mixed volume, in a repeating pattern of five pages: born-digital English, a clean
 * scan (slightly rotated), born-digital Devanagari, born-digital English, a noisy scan (rotated
 * more, with grain). English pages carry their page number so a shuffled page would show.
 */
export async function makeThirtyPageMixedPdf(
  dir: string,
  options: { scanDpi: number },
): Promise<{ path: string; pages: Array<{ text: string; kind: MixedPageKind }> }> {
  const pattern: MixedPageKind[] = ['digital-en', 'scan-clean', 'digital-hi', 'digital-en', 'scan-noisy'];
  const pages: Array<{ text: string; kind: MixedPageKind }> = [];
  const content: FixturePage[] = [];
  for (let i = 0; i < 30; i++) {
    const kind = pattern[i % pattern.length] as MixedPageKind;
    const text =
      kind === 'digital-hi'
        ? (HINDI_PAGES[Math.floor(i / 5) % HINDI_PAGES.length] as string)
        : `${ENGLISH_PAGES[i % ENGLISH_PAGES.length]} This is page ${i + 1} of the volume.`;
    pages.push({ text, kind });
    if (kind === 'digital-en') content.push({ text, font: LATIN_FONT, fontSize: 13 });
    else if (kind === 'digital-hi') content.push({ text, font: DEVANAGARI_FONT, fontSize: 13 });
    else {
      // Sheets laid askew either way; the noisy ones more so, with an old scan's grain.
      const sign = i % 2 === 0 ? 1 : -1;
      const scan: ScanOptions =
        kind === 'scan-clean'
          ? { dpi: options.scanDpi, rotateDeg: sign * 0.3 }
          : { dpi: options.scanDpi, rotateDeg: sign * 0.8, noise: 18 };
      content.push({ image: await makeScanImage(dir, `mixed30-${i + 1}`, text, LATIN_FONT, scan) });
    }
  }
  const filePath = path.join(dir, 'mixed-30.pdf');
  await writePdf(filePath, content, { size: A6 });
  return { path: filePath, pages };
}

/**
 * A long scanned PDF made quickly: four distinct scan images, each embedded once and shown on
 * every fourth page (pdfkit reuses an image it has seen), so 500 pages cost four renders to make.
 */
export async function makeLongScannedPdf(
  dir: string,
  count: number,
  scan: ScanOptions = {},
): Promise<{ path: string; texts: string[] }> {
  const images: string[] = [];
  for (const [i, text] of ENGLISH_PAGES.entries())
    images.push(await makeScanImage(dir, `long-scan-${i}`, text, LATIN_FONT, scan));
  const texts = Array.from({ length: count }, (_, i) => ENGLISH_PAGES[i % ENGLISH_PAGES.length] as string);
  const filePath = path.join(dir, `long-scanned-${count}.pdf`);
  await writePdf(
    filePath,
    texts.map((_, i) => ({ image: images[i % images.length] as string })),
    { size: A6 },
  );
  return { path: filePath, texts };
}
