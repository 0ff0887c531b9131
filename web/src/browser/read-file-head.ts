import { SNIFF_BYTES } from '../format/detect-file-kind.js';

/** The first bytes of a chosen file, read locally to show its type before upload. */
export async function readFileHead(file: Blob): Promise<Uint8Array> {
  try {
    return new Uint8Array(await file.slice(0, SNIFF_BYTES).arrayBuffer());
  } catch {
    return new Uint8Array();
  }
}
