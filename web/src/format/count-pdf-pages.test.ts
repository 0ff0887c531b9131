import { describe, expect, it } from 'vitest';
import { SUPPORTED_INPUTS } from '../api/contract.js';
import { measureFile, measurePdfPages, PDF_READ_WHOLE_BYTES } from '../browser/measure-file.js';
import { countPdfPages } from './count-pdf-pages.js';

const latin = (text: string) => Uint8Array.from(text, (c) => c.charCodeAt(0));

function concat(parts: readonly Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((sum, part) => sum + part.length, 0));
  let offset = 0;
  for (const part of parts) {
    out.set(part, offset);
    offset += part.length;
  }
  return out;
}

async function deflate(bytes: Uint8Array): Promise<Uint8Array> {
  const stream = new Blob([bytes as BlobPart]).stream().pipeThrough(new CompressionStream('deflate'));
  return new Uint8Array(await new Response(stream).arrayBuffer());
}

/**
 * A PDF with a cross-reference table: objects 1… in order, `/Root 1 0 R`. `filler` bytes of an
 * image-like stream make it as large as a test needs.
 */
function makePdf(objects: readonly (string | Uint8Array)[], filler = 0): Uint8Array {
  const parts: Uint8Array[] = [latin('%PDF-1.7\n%\xe2\xe3\xcf\xd3\n')];
  let offset = parts[0]?.length ?? 0;
  const offsets: number[] = [];
  const all = filler > 0 ? [...objects, fillerObject(filler)] : objects;
  all.forEach((body, index) => {
    offsets.push(offset);
    const part = concat([
      latin(`${index + 1} 0 obj\n`),
      typeof body === 'string' ? latin(body) : body,
      latin('\nendobj\n'),
    ]);
    parts.push(part);
    offset += part.length;
  });
  const xref = [
    'xref',
    `0 ${all.length + 1}`,
    '0000000000 65535 f ',
    ...offsets.map((o) => `${String(o).padStart(10, '0')} 00000 n `),
    'trailer',
    `<< /Size ${all.length + 1} /Root 1 0 R >>`,
    'startxref',
    String(offset),
    '%%EOF',
    '',
  ].join('\n');
  parts.push(latin(xref));
  return concat(parts);
}

function fillerObject(size: number): Uint8Array {
  const data = new Uint8Array(size).fill(0x41);
  return concat([latin(`<< /Length ${size} >>\nstream\n`), data, latin('\nendstream')]);
}

/** Catalog, page tree root with `pages` kids, and the pages (objects 3…). */
function flatPages(pages: number): string[] {
  const kids = Array.from({ length: pages }, (_, i) => `${i + 3} 0 R`).join(' ');
  return [
    '<< /Type /Catalog /Pages 2 0 R >>',
    `<< /Type /Pages /Kids [${kids}] /Count ${pages} /MediaBox [0 0 595 842] >>`,
    ...Array.from({ length: pages }, () => '<< /Type /Page /Parent 2 0 R /Resources << >> >>'),
  ];
}

describe('PDF page count before upload', () => {
  it('reads the /Count of the page tree root', async () => {
    expect(await countPdfPages(makePdf(flatPages(3)), true)).toBe(3);
  });

  it('takes the root of a nested page tree, not an intermediate node', async () => {
    const pdf = makePdf([
      '<< /Type /Catalog /Pages 2 0 R >>',
      '<< /Type/Pages/Kids[3 0 R 4 0 R]/Count 5 >>',
      '<< /Type/Pages/Parent 2 0 R/Kids[5 0 R 6 0 R]/Count 2 >>',
      '<< /Type/Pages/Parent 2 0 R/Kids[7 0 R 8 0 R 9 0 R]/Count 3 >>',
      ...Array.from({ length: 5 }, (_, i) => `<< /Type/Page/Parent ${i < 2 ? 3 : 4} 0 R >>`),
    ]);
    expect(await countPdfPages(pdf, true)).toBe(5);
  });

  it('finds the page tree inside a compressed object stream', async () => {
    const objects = ['<< /Type /Catalog /Pages 3 0 R >>', '<< /Type /Pages /Kids [4 0 R 5 0 R] /Count 2 >>'];
    const header = `2 0 3 ${objects[0]?.length ?? 0} `;
    const compressed = await deflate(latin(header + objects.join('')));
    const objStm = concat([
      latin(
        `<< /Type /ObjStm /N 2 /First ${header.length} /Filter /FlateDecode /Length ${compressed.length} >>\nstream\n`,
      ),
      compressed,
      latin('\nendstream'),
    ]);
    // The pages themselves are compressed too: only the object stream tells the count.
    const pdf = makePdf([objStm]);
    expect(new TextDecoder('latin1').decode(pdf)).not.toMatch(/\/Count/);
    expect(await countPdfPages(pdf, true)).toBe(2);
  });

  it('counts /Type /Page objects when there is no page tree count, only in a whole file', async () => {
    const pdf = makePdf([
      '<< /Type /Catalog /Pages 2 0 R >>',
      '<< /Type /Pages /Kids [3 0 R 4 0 R 5 0 R 6 0 R] >>',
      ...Array.from({ length: 4 }, () => '<< /Type /Page /Parent 2 0 R >>'),
    ]);
    expect(await countPdfPages(pdf, true)).toBe(4);
    expect(await countPdfPages(pdf, false)).toBeNull();
  });

  it('tells nothing for bytes that are not a PDF or have no pages', async () => {
    expect(await countPdfPages(latin('GIF89a /Type /Pages /Count 4'), true)).toBeNull();
    expect(await countPdfPages(makePdf(['<< /Type /Catalog >>']), true)).toBeNull();
  });

  it('reads only the head and tail of a large PDF, and still finds the page tree', async () => {
    const pdf = makePdf(flatPages(7), PDF_READ_WHOLE_BYTES + 1024);
    expect(pdf.length).toBeGreaterThan(PDF_READ_WHOLE_BYTES);
    expect(await measurePdfPages(new Blob([pdf as BlobPart]))).toBe(7);
    // Its page tree at the end, after the filler, as an incremental update would write it.
    const late = makePdf([
      '<< /Type /Catalog /Pages 3 0 R >>',
      fillerObject(PDF_READ_WHOLE_BYTES + 1024),
      '<< /Type /Pages /Kids [4 0 R] /Count 1 >>',
      '<< /Type /Page /Parent 3 0 R >>',
    ]);
    expect(await measurePdfPages(new Blob([late as BlobPart]))).toBe(1);
  });

  it('measures a document by pages: a PDF by its tree, an image as one page, a TIFF unknown', async () => {
    const input = (mime: string) => SUPPORTED_INPUTS.find((i) => i.mime === mime);
    expect(
      await measureFile(new Blob([makePdf(flatPages(2)) as BlobPart]), input('application/pdf')),
    ).toEqual({
      page_count: 2,
    });
    expect(await measureFile(new Blob([latin('not really')]), input('application/pdf'))).toEqual({});
    expect(await measureFile(new Blob([latin('\x89PNG')]), input('image/png'))).toEqual({ page_count: 1 });
    expect(await measureFile(new Blob([latin('II*\0')]), input('image/tiff'))).toEqual({});
    expect(await measureFile(new Blob([]), undefined)).toEqual({});
  });
});
