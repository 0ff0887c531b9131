/**
 * `attachment` with both an ASCII fallback and an RFC 6266 / RFC 8187 `filename*` so that names
 * such as `प्रवचन-१.txt` survive in every browser.
 */
export function contentDisposition(filename: string): string {
  const fallback = filename.replace(/[^\x20-\x7e]/g, '_').replace(/["\\]/g, '_');
  const encoded = encodeURIComponent(filename).replace(
    /['()*]/g,
    (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`,
  );
  return `attachment; filename="${fallback}"; filename*=UTF-8''${encoded}`;
}

/** `talk 3.mp3` + `txt` → `talk 3.txt`. */
export function resultFilename(inputFilename: string, format: string): string {
  const dot = inputFilename.lastIndexOf('.');
  const stem = dot > 0 ? inputFilename.slice(0, dot) : inputFilename;
  return `${stem || 'result'}.${format}`;
}
