import picomatch from 'picomatch';

/**
 * `--include` / `--exclude` for folder walks, matched against the path relative to the folder
 * given (always with `/`). A pattern without `/` matches the file name at any depth (`*.pdf`);
 * with `/` it matches the whole relative path (`scans/**`). Exclusions win; with no inclusions
 * every file is included.
 */
export function createInputPathFilter(
  include: readonly string[],
  exclude: readonly string[],
): (relativePath: string) => boolean {
  const options = { dot: true, basename: true, nocase: false };
  const included = include.length > 0 ? picomatch([...include], options) : () => true;
  const excluded = exclude.length > 0 ? picomatch([...exclude], options) : () => false;
  return (relativePath) => included(relativePath) && !excluded(relativePath);
}
