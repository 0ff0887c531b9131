import { writeFile } from 'node:fs/promises';
import { deflateSync } from 'node:zlib';

/**
 * Tesseract's "GlyphLessFont" (tessdata/pdf.ttf, Apache-2.0): one empty glyph, 500/1000 em wide.
 * Embedded here so a text layer can be written where only tesseract.js or a cloud engine runs.
 */
const GLYPHLESS_FONT = Buffer.from(
  'AAEAAAAKAIAAAwAgT1MvMlbeyJQAAAEoAAAAYGNtYXAACgA0AAABkAAAAB5nbHlmFSJBJAAAAbgAAAAYaGVhZAt48WUAAACsAAAANmhoZWEMAgQCAAAA5AAAACRobXR4BAAAAAAAAYgAAAAIbG9jYQAMAAAAAAGwAAAABm1heHAABAAFAAABCAAAACBuYW1l8usW2gAAAdAAAABLcG9zdAABAAEAAAIcAAAAIAABAAAAAQAAsJRxEF8PPPUEBwgAAAAAAM+a/G4AAAAA1MOn8gAAAAAEAAgAAAAAEAACAAAAAAAAAAEAAAgA//8AAAQAAAAAAAQAAAEAAAAAAAAAAAAAAAAAAAACAAEAAAACAAQAAQAAAAAAAQAAAAAAAAAAAAAAAAAAAAAAAwAAAZAABQAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAUAAQABAAAAAAAAAAAAAAAAAAAAAAAAAAAAR09PRwBAAAAAAAAB//8AAAABAAGAAAAAAAAAAAAAAAAAAAABAAAAAAAABAAAAAAAAAIAAQAAAAAAFAADAAAAAAAUAAYACgAAAAAAAAAAAAAAAAAMAAAAAQAAAAAEAAgAAAMAADEhESEEAPwACAAAAAADACoAAAADAAAABQAWAAAAAQAAAAAABQALABYAAwABBAkABQAWAAAAVgBlAHIAcwBpAG8AbgAgADEALgAwVmVyc2lvbiAxLjAAAAEAAAAAAAAAAAAAAAAAAQAAAAAAAAAAAAAAAAAAAAA=',
  'base64',
);

export interface TextLayerPageSize {
  widthPt: number;
  heightPt: number;
}

/** Every CID drawn with glyph 1 of the glyphless font: the text is invisible and never shaped. */
function cidToGidMap(): Buffer {
  const map = Buffer.alloc(65536 * 2);
  for (let cid = 0; cid < 65536; cid++) map.writeUInt16BE(1, cid * 2);
  return deflateSync(map);
}

/** CID = UTF-16 code unit, so extraction (pdftotext, a viewer's search) gives the text back as written. */
function toUnicodeCMap(): string {
  const ranges: string[] = [];
  for (let high = 0; high < 256; high++) {
    // Surrogate code units are not characters of their own; text is written within the BMP.
    if (high >= 0xd8 && high <= 0xdf) continue;
    const h = high.toString(16).padStart(2, '0').toUpperCase();
    ranges.push(`<${h}00> <${h}FF> <${h}00>`);
  }
  const blocks: string[] = [];
  for (let i = 0; i < ranges.length; i += 100) {
    const block = ranges.slice(i, i + 100);
    blocks.push(`${block.length} beginbfrange\n${block.join('\n')}\nendbfrange`);
  }
  return [
    '/CIDInit /ProcSet findresource begin',
    '12 dict begin',
    'begincmap',
    '/CIDSystemInfo << /Registry (Adobe) /Ordering (UCS) /Supplement 0 >> def',
    '/CMapName /Adobe-Identity-UCS def',
    '/CMapType 2 def',
    '1 begincodespacerange',
    '<0000> <FFFF>',
    'endcodespacerange',
    ...blocks,
    'endcmap',
    'CMapName currentdict /CMap defineresource pop',
    'end',
    'end',
  ].join('\n');
}

function hexUtf16(line: string): string {
  let hex = '';
  for (const char of line) {
    const code = char.codePointAt(0) ?? 0xfffd;
    // Outside the BMP (rare in books): U+FFFD keeps one code per character.
    hex += (code > 0xffff ? 0xfffd : code).toString(16).padStart(4, '0');
  }
  return hex.toUpperCase();
}

const f = (n: number) => (Math.round(n * 1000) / 1000).toString();

/** The content stream: each line of text in invisible mode (3 Tr), spread down the page, in a font sized to fit its width. */
function contentStream(text: string, size: TextLayerPageSize): string {
  const lines = text
    .split(/\r?\n/)
    .map((l) => l.replace(/\s+/g, ' ').trim())
    .filter((l) => l.length > 0);
  if (lines.length === 0) return '';
  const margin = Math.min(size.widthPt, size.heightPt) * 0.05;
  const usableHeight = size.heightPt - 2 * margin;
  const pitch = usableHeight / lines.length;
  const bandSize = Math.min(pitch * 0.8, 24);
  const usableWidth = size.widthPt - 2 * margin;
  const ops = ['BT', '3 Tr'];
  for (const [i, line] of lines.entries()) {
    // Glyphs are 0.5 em wide: a long line gets a smaller font to fit the page's width. Squeezing
    // with Tz instead makes glyphs overlap, and extractors then drop repeated letters ("ll").
    const fontSize = Math.max(0.1, Math.min(bandSize, usableWidth / ([...line].length * 0.5)));
    const baseline = size.heightPt - margin - pitch * i - bandSize;
    ops.push(`/F1 ${f(fontSize)} Tf`, `1 0 0 1 ${f(margin)} ${f(baseline)} Tm`, `<${hexUtf16(line)}> Tj`);
  }
  ops.push('ET');
  return ops.join('\n');
}

/**
 * A one-page PDF holding only an invisible text layer of `text`, for engines that read a page
 * without word boxes (Gemini, tesseract.js here): line i of the text sits at the i-th of n equal
 * bands down the page, in a font small enough for the line to fit the width. Search and copy find the page's text; the
 * highlight shows the band of the line, not the exact words. Laid over the original page by qpdf.
 */
export async function writeTextLayerPdf(
  outPath: string,
  text: string,
  size: TextLayerPageSize,
): Promise<string> {
  const content = Buffer.from(contentStream(text, size), 'latin1');
  const cmap = Buffer.from(toUnicodeCMap(), 'latin1');
  const gidMap = cidToGidMap();
  const objects: Array<Buffer> = [];
  const dict = (body: string) => Buffer.from(body, 'latin1');
  const stream = (head: string, data: Buffer) =>
    Buffer.concat([dict(`<< ${head} /Length ${data.length} >>\nstream\n`), data, dict('\nendstream')]);
  objects.push(dict('<< /Type /Catalog /Pages 2 0 R >>'));
  objects.push(dict('<< /Type /Pages /Kids [3 0 R] /Count 1 >>'));
  objects.push(
    dict(
      `<< /Type /Page /Parent 2 0 R /MediaBox [0 0 ${f(size.widthPt)} ${f(size.heightPt)}] /Contents 4 0 R /Resources << /Font << /F1 5 0 R >> >> >>`,
    ),
  );
  objects.push(stream('', content));
  objects.push(
    dict(
      '<< /Type /Font /Subtype /Type0 /BaseFont /GlyphLessFont /Encoding /Identity-H /DescendantFonts [6 0 R] /ToUnicode 7 0 R >>',
    ),
  );
  objects.push(
    dict(
      '<< /Type /Font /Subtype /CIDFontType2 /BaseFont /GlyphLessFont /CIDSystemInfo << /Registry (Adobe) /Ordering (Identity) /Supplement 0 >> /FontDescriptor 8 0 R /CIDToGIDMap 9 0 R /DW 500 >>',
    ),
  );
  objects.push(stream('', cmap));
  objects.push(
    dict(
      '<< /Type /FontDescriptor /FontName /GlyphLessFont /Flags 5 /FontBBox [0 0 500 1000] /ItalicAngle 0 /Ascent 1000 /Descent -1 /CapHeight 1000 /StemV 80 /FontFile2 10 0 R >>',
    ),
  );
  objects.push(stream('/Filter /FlateDecode', gidMap));
  objects.push(stream(`/Length1 ${GLYPHLESS_FONT.length}`, GLYPHLESS_FONT));
  const parts: Buffer[] = [dict('%PDF-1.5\n%\xe2\xe3\xcf\xd3\n')];
  let offset = parts[0]?.length ?? 0;
  const offsets: number[] = [];
  for (const [i, body] of objects.entries()) {
    offsets.push(offset);
    const obj = Buffer.concat([dict(`${i + 1} 0 obj\n`), body, dict('\nendobj\n')]);
    parts.push(obj);
    offset += obj.length;
  }
  const xref = [
    'xref',
    `0 ${objects.length + 1}`,
    '0000000000 65535 f ',
    ...offsets.map((o) => `${o.toString().padStart(10, '0')} 00000 n `),
    'trailer',
    `<< /Size ${objects.length + 1} /Root 1 0 R >>`,
    'startxref',
    String(offset),
    '%%EOF\n',
  ].join('\n');
  parts.push(dict(xref));
  await writeFile(outPath, Buffer.concat(parts));
  return outPath;
}
