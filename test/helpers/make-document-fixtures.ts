import { execFile } from 'node:child_process';
import { createWriteStream } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import { crc32 } from 'node:zlib';
import PDFDocument from 'pdfkit';

const run = promisify(execFile);
const FONT_DIR = '/usr/share/fonts/truetype/noto';
const LATIN_FONT = path.join(FONT_DIR, 'NotoSans-Regular.ttf');
const DEVANAGARI_FONT = path.join(FONT_DIR, 'NotoSansDevanagari-Regular.ttf');

export const ENGLISH_TEXT =
  'The archive keeps old books and recorded talks. Volunteers scan every page with care so that the text can be read and searched by anyone.';
export const HINDI_TEXT = 'यह पुस्तक बहुत पुरानी है। स्वयंसेवक हर पृष्ठ को ध्यान से पढ़ते हैं ताकि ज्ञान सबके लिए सुरक्षित रहे।';

type Page = { text: string; font: string };

function writePdf(
  filePath: string,
  pages: readonly Page[],
  options: { userPassword?: string } = {},
): Promise<void> {
  return new Promise((resolve, reject) => {
    const doc = new PDFDocument({ autoFirstPage: false, size: 'A4', margin: 72, ...options });
    const out = createWriteStream(filePath);
    out.on('finish', resolve);
    out.on('error', reject);
    doc.pipe(out);
    for (const page of pages) {
      doc.addPage();
      doc.font(page.font).fontSize(16).text(page.text, { lineGap: 6 });
    }
    doc.end();
  });
}

/** Page 1 in English, page 2 in Hindi (Devanagari shaped by pdfkit's fontkit). */
export async function makeTwoPagePdf(dir: string): Promise<{ path: string; pages: [string, string] }> {
  const filePath = path.join(dir, 'two-pages.pdf');
  await writePdf(filePath, [
    { text: ENGLISH_TEXT, font: LATIN_FONT },
    { text: HINDI_TEXT, font: DEVANAGARI_FONT },
  ]);
  return { path: filePath, pages: [ENGLISH_TEXT, HINDI_TEXT] };
}

/** A longer English PDF, for tests that need a job to stay busy for a while. */
export async function makeManyPagePdf(dir: string, pageCount: number): Promise<string> {
  const filePath = path.join(dir, `pages-${pageCount}.pdf`);
  await writePdf(
    filePath,
    Array.from({ length: pageCount }, () => ({ text: `${ENGLISH_TEXT} ${ENGLISH_TEXT}`, font: LATIN_FONT })),
  );
  return filePath;
}

export async function makeEncryptedPdf(dir: string): Promise<string> {
  const filePath = path.join(dir, 'locked.pdf');
  await writePdf(filePath, [{ text: ENGLISH_TEXT, font: LATIN_FONT }], { userPassword: 'secret' });
  return filePath;
}

/** Starts like a PDF, then is garbage: passes content sniffing, fails in the engine. */
export async function makeCorruptPdf(dir: string): Promise<string> {
  const filePath = path.join(dir, 'corrupt.pdf');
  await writeFile(
    filePath,
    Buffer.concat([Buffer.from('%PDF-1.7\n%âãÏÓ\n1 0 obj\n<< /Type /Cat'), Buffer.alloc(512, 0x37)]),
  );
  return filePath;
}

/** A scanned-looking page: rendered at 300 dpi, rotated half a degree, with grain. */
export async function makeScannedPng(dir: string): Promise<{ path: string; text: string }> {
  const pdf = path.join(dir, 'scan-source.pdf');
  await writePdf(pdf, [{ text: ENGLISH_TEXT, font: LATIN_FONT }]);
  await run('pdftoppm', ['-r', '300', '-gray', '-png', '-singlefile', pdf, path.join(dir, 'scan-clean')]);
  const filePath = path.join(dir, 'scan.png');
  await run('ffmpeg', [
    '-nostdin',
    '-v',
    'error',
    '-y',
    '-i',
    path.join(dir, 'scan-clean.png'),
    '-vf',
    'rotate=0.008:fillcolor=white,noise=alls=12:allf=t',
    '-pix_fmt',
    'gray',
    filePath,
  ]);
  return { path: filePath, text: ENGLISH_TEXT };
}

/** A PNG whose header claims width × height (its data is one tiny, wrong-sized block). */
export function pngClaiming(width: number, height: number): Buffer {
  const chunk = (type: string, data: Buffer) => {
    const length = Buffer.alloc(4);
    length.writeUInt32BE(data.length);
    const body = Buffer.concat([Buffer.from(type, 'latin1'), data]);
    const crc = Buffer.alloc(4);
    crc.writeUInt32BE(crc32(body));
    return Buffer.concat([length, body, crc]);
  };
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(width, 0);
  ihdr.writeUInt32BE(height, 4);
  ihdr.writeUInt8(8, 8);
  return Buffer.concat([
    Buffer.from('89504e470d0a1a0a', 'hex'),
    chunk('IHDR', ihdr),
    chunk('IDAT', Buffer.from('789c63600000000200', 'hex')),
    chunk('IEND', Buffer.alloc(0)),
  ]);
}
