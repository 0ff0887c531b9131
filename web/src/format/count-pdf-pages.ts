/**
 * The page count of a PDF, read in the browser before upload from the file's bytes (no PDF
 * library): the `/Count` of the page tree's root, which is the largest `/Count` of any
 * `/Type /Pages` dictionary (the root holds every page below it). Compressed object streams
 * (`/Type /ObjStm`, PDF 1.5+) are inflated first, since the page tree usually sits in one. When no
 * page tree is found and the whole file was read, the `/Type /Page` objects are counted instead.
 * Advice for the precheck only: the server counts the pages again.
 */

/** At most this many object streams are inflated, and this many bytes out of them in all. */
const MAX_OBJECT_STREAMS = 64;
const MAX_INFLATED_BYTES = 32 * 1024 * 1024;

const PAGES_TYPE = /\/Type\s*\/Pages(?![A-Za-z0-9#])/g;
const PAGE_TYPE = /\/Type\s*\/Page(?![A-Za-z0-9#])/g;
const OBJECT_STREAM = /\/Type\s*\/ObjStm(?![A-Za-z0-9#])/g;

/**
 * One character per byte, so that string positions are byte positions ('latin1' is decoded as
 * windows-1252, which still maps every byte to one UTF-16 unit; only ASCII is searched).
 */
function byteString(bytes: Uint8Array): string {
  return new TextDecoder('latin1').decode(bytes);
}

/** Start and end of the dictionary `<< … >>` that encloses `position`, or null. */
function enclosingDictionary(text: string, position: number): { start: number; end: number } | null {
  let depth = 0;
  let start = -1;
  for (let i = position; i >= 1 && position - i < 64 * 1024; i--) {
    const pair = text.slice(i - 1, i + 1);
    if (pair === '>>') {
      depth++;
      i--;
    } else if (pair === '<<') {
      if (depth === 0) {
        start = i - 1;
        break;
      }
      depth--;
      i--;
    }
  }
  if (start < 0) return null;
  depth = 0;
  for (let i = start; i < text.length - 1 && i - start < 64 * 1024; i++) {
    const pair = text.slice(i, i + 2);
    if (pair === '<<') {
      depth++;
      i++;
    } else if (pair === '>>') {
      depth--;
      i++;
      if (depth === 0) return { start, end: i + 1 };
    }
  }
  return null;
}

/** The largest `/Count` among the `/Type /Pages` dictionaries of `text`, or null. */
function pageTreeCount(text: string): number | null {
  let best: number | null = null;
  for (const match of text.matchAll(PAGES_TYPE)) {
    const dictionary = enclosingDictionary(text, match.index);
    if (!dictionary) continue;
    const count = /\/Count\s+(\d+)/.exec(text.slice(dictionary.start, dictionary.end));
    if (count?.[1] === undefined) continue;
    const value = Number(count[1]);
    if (Number.isSafeInteger(value) && (best === null || value > best)) best = value;
  }
  return best;
}

async function inflate(bytes: Uint8Array, limit: number): Promise<Uint8Array | null> {
  try {
    const stream = new Blob([bytes as BlobPart]).stream().pipeThrough(new DecompressionStream('deflate'));
    const reader = stream.getReader();
    const parts: Uint8Array[] = [];
    let total = 0;
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      total += value.length;
      if (total > limit) {
        await reader.cancel();
        return null;
      }
      parts.push(value);
    }
    const out = new Uint8Array(total);
    let offset = 0;
    for (const part of parts) {
      out.set(part, offset);
      offset += part.length;
    }
    return out;
  } catch {
    return null;
  }
}

/** The inflated contents of the object streams in `text` (FlateDecode only), bounded. */
async function objectStreamContents(bytes: Uint8Array, text: string): Promise<string[]> {
  const contents: string[] = [];
  let budget = MAX_INFLATED_BYTES;
  for (const match of text.matchAll(OBJECT_STREAM)) {
    if (contents.length >= MAX_OBJECT_STREAMS || budget <= 0) break;
    const dictionary = enclosingDictionary(text, match.index);
    if (!dictionary) continue;
    const head = text.slice(dictionary.start, dictionary.end);
    if (!/\/Filter\s*(\[\s*)?\/FlateDecode/.test(head) || /\/DecodeParms/.test(head)) continue;
    const keyword = /^\s*stream\r?\n/.exec(text.slice(dictionary.end, dictionary.end + 32));
    if (!keyword) continue;
    const dataStart = dictionary.end + keyword[0].length;
    const length = /\/Length\s+(\d+)(?!\s+\d+\s+R)/.exec(head);
    let dataEnd = length?.[1] !== undefined ? dataStart + Number(length[1]) : -1;
    if (dataEnd < dataStart || dataEnd > bytes.length) {
      // An indirect or wrong /Length: the data ends at the end-of-line before `endstream`.
      const end = text.indexOf('endstream', dataStart);
      if (end < 0) continue;
      dataEnd = text[end - 2] === '\r' && text[end - 1] === '\n' ? end - 2 : end - 1;
    }
    const inflated = await inflate(bytes.subarray(dataStart, dataEnd), budget);
    if (!inflated) continue;
    budget -= inflated.length;
    contents.push(byteString(inflated));
  }
  return contents;
}

/**
 * The number of pages of the PDF in `bytes`, or null when it cannot be told. `complete` says
 * whether `bytes` is the whole file; a part (its head and tail) is only read for the page tree.
 */
export async function countPdfPages(bytes: Uint8Array, complete: boolean): Promise<number | null> {
  const text = byteString(bytes);
  if (!text.startsWith('%PDF-')) return null;
  const texts = [text, ...(await objectStreamContents(bytes, text))];
  let best: number | null = null;
  for (const part of texts) {
    const count = pageTreeCount(part);
    if (count !== null && (best === null || count > best)) best = count;
  }
  if (best !== null && best > 0) return best;
  if (!complete) return null;
  let pages = 0;
  for (const part of texts) pages += [...part.matchAll(PAGE_TYPE)].length;
  return pages > 0 ? pages : null;
}
