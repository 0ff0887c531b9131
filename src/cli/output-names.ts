import path from 'node:path';

/**
 * Where each input's results go, relative to `--out`: the input's relative path without its
 * extension (`vol1/page-3.png` → `vol1/page-3` + `.txt`), or with it when two inputs of one folder
 * share a stem (`talk.wav` and `talk.mp3` → `talk.wav.txt`, `talk.mp3.txt`).
 */
export function outputStems(relativePaths: readonly string[]): Map<string, string> {
  const stemOf = (relativePath: string) => {
    const extension = path.posix.extname(relativePath);
    return extension && extension !== relativePath ? relativePath.slice(0, -extension.length) : relativePath;
  };
  const uses = new Map<string, number>();
  for (const relativePath of relativePaths) {
    const stem = stemOf(relativePath);
    uses.set(stem, (uses.get(stem) ?? 0) + 1);
  }
  return new Map(
    relativePaths.map((relativePath) => {
      const stem = stemOf(relativePath);
      return [relativePath, (uses.get(stem) ?? 0) > 1 ? relativePath : stem];
    }),
  );
}

/** Two inputs whose results would overwrite each other (e.g. `a/x.pdf` from two folders given). */
export function clashingRelativePaths(relativePaths: readonly string[]): string[] {
  const seen = new Set<string>();
  const clashes = new Set<string>();
  for (const relativePath of relativePaths) {
    if (seen.has(relativePath)) clashes.add(relativePath);
    seen.add(relativePath);
  }
  return [...clashes];
}
