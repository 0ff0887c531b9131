/** What a page's embedded text layer is worth. */
export type TextLayerVerdict =
  /** Real text: taken as is. */
  | 'usable'
  /** No text (a scanned page) or too little to be the page's content. */
  | 'empty'
  /** Text from a font without a usable Unicode mapping (legacy Hindi fonts, glyph ids). */
  | 'broken'
  /** Devanagari: PDF text extraction returns vowel signs in visual order, so OCR reads it better. */
  | 'devanagari';

/** Fewer letters than this and the page counts as having no text layer. */
const MIN_LETTERS = 10;
/** Share of control, private-use or replacement characters above which the encoding is broken. */
const MAX_GARBAGE_SHARE = 0.05;
/** Devanagari letters from which a page counts as (partly) Devanagari. */
const MIN_DEVANAGARI_SHARE = 0.1;
const MIN_DEVANAGARI_LETTERS = 30;

/**
 * Fonts whose text is Devanagari drawn through Latin code points (Kruti Dev, DevLys, Chanakya…):
 * their text layer reads as Latin gibberish.
 */
const LEGACY_DEVANAGARI_FONT =
  /kruti|devlys|chanakya|shusha|walkman|agra|kundli|akshar|shivaji|krishna|dv-?tt|aps-?dv|sanskrit ?99|marathi ?saral/i;

export function isLegacyDevanagariFont(fontName: string): boolean {
  return LEGACY_DEVANAGARI_FONT.test(fontName);
}

/** Judges a page's extracted text; `fonts` (when known) are the fonts used on that page. */
export function assessTextLayer(text: string, fonts: readonly string[] = []): TextLayerVerdict {
  const visible = text.replace(/[\s\f]/g, '');
  const letters = visible.match(/[\p{L}\p{M}]/gu)?.length ?? 0;
  const garbage =
    // biome-ignore lint/suspicious/noControlCharactersInRegex: glyph ids leak out as control characters
    visible.match(/[\u0000-\u001f\u007f-\u009f\ufffd\p{Co}]/gu)?.length ?? 0;
  if (visible.length > 0 && garbage / visible.length > MAX_GARBAGE_SHARE) return 'broken';
  if (letters < MIN_LETTERS) return 'empty';
  if (fonts.some(isLegacyDevanagariFont)) return 'broken';
  const devanagari = visible.match(/\p{Script=Devanagari}/gu)?.length ?? 0;
  if (devanagari >= MIN_DEVANAGARI_LETTERS || devanagari / letters >= MIN_DEVANAGARI_SHARE)
    return 'devanagari';
  return 'usable';
}
