import { SUPPORTED_INPUTS, type SupportedInput } from '../api/contract.js';

/** How many leading bytes `detectFileKind` looks at. */
export const SNIFF_BYTES = 64;

export interface DetectedKind {
  input: SupportedInput;
  /** `content` when recognised from the bytes (as the server does), `name` from the extension alone. */
  by: 'content' | 'name';
}

function ascii(bytes: Uint8Array, start: number, length: number): string {
  return String.fromCharCode(...bytes.subarray(start, start + length));
}

function startsWith(bytes: Uint8Array, signature: readonly number[], offset = 0): boolean {
  return signature.every((value, i) => bytes[offset + i] === value);
}

function byExt(ext: string): SupportedInput | undefined {
  return SUPPORTED_INPUTS.find((input) => input.ext === ext);
}

/** The extension the contract names for a file's leading bytes (the same signatures file-type reads). */
function sniffExt(bytes: Uint8Array): string | null {
  if (ascii(bytes, 0, 5) === '%PDF-') return 'pdf';
  if (startsWith(bytes, [0x89, 0x50, 0x4e, 0x47])) return 'png';
  if (startsWith(bytes, [0xff, 0xd8, 0xff])) return 'jpg';
  if (ascii(bytes, 0, 4) === 'II*\0' || ascii(bytes, 0, 4) === 'MM\0*') return 'tif';
  if (ascii(bytes, 0, 2) === 'BM') return 'bmp';
  if (ascii(bytes, 0, 4) === 'RIFF') {
    const form = ascii(bytes, 8, 4);
    if (form === 'WEBP') return 'webp';
    if (form === 'WAVE') return 'wav';
    if (form === 'AVI ') return 'avi';
  }
  if (ascii(bytes, 0, 3) === 'ID3' || (bytes[0] === 0xff && ((bytes[1] ?? 0) & 0xe0) === 0xe0)) {
    // 0xFFFx is also AAC's ADTS sync word; layer bits 00 mean AAC.
    return ((bytes[1] ?? 0) & 0x06) === 0 && ascii(bytes, 0, 3) !== 'ID3' ? 'aac' : 'mp3';
  }
  if (ascii(bytes, 0, 4) === 'fLaC') return 'flac';
  if (ascii(bytes, 0, 4) === 'OggS') return ascii(bytes, 28, 8) === 'OpusHead' ? 'opus' : 'ogg';
  if (startsWith(bytes, [0x30, 0x26, 0xb2, 0x75, 0x8e, 0x66, 0xcf, 0x11])) return 'asf';
  if (startsWith(bytes, [0x1a, 0x45, 0xdf, 0xa3]))
    return ascii(bytes, 0, SNIFF_BYTES).includes('webm') ? 'webm' : 'mkv';
  if (ascii(bytes, 4, 4) === 'ftyp') {
    const brand = ascii(bytes, 8, 4);
    if (brand.startsWith('M4A')) return 'm4a';
    if (brand === 'qt  ') return 'mov';
    return 'mp4';
  }
  return null;
}

const NAME_ALIASES: Readonly<Record<string, string>> = {
  jpeg: 'jpg',
  tiff: 'tif',
  wma: 'asf',
  oga: 'ogg',
  m4v: 'mp4',
};

/**
 * What a file will become, guessed in the browser before upload: by its first bytes when they
 * are known, else by its name. The server decides by content; this only informs the choices shown.
 */
export function detectFileKind(head: Uint8Array, filename: string): DetectedKind | null {
  const sniffed = sniffExt(head);
  const fromContent = sniffed ? byExt(sniffed) : undefined;
  if (fromContent) return { input: fromContent, by: 'content' };
  const ext = filename.toLowerCase().split('.').pop() ?? '';
  const fromName = byExt(NAME_ALIASES[ext] ?? ext);
  return fromName ? { input: fromName, by: 'name' } : null;
}
