import path from 'node:path';
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
  const included = anyOf(include, true);
  const excluded = anyOf(exclude, false);
  return (relativePath) => included(relativePath) && !excluded(relativePath);
}

function anyOf(patterns: readonly string[], whenNone: boolean): (relativePath: string) => boolean {
  if (patterns.length === 0) return () => whenNone;
  // picomatch's own `basename` option would apply to patterns with a slash too.
  const matchers = patterns.map((pattern) => {
    const matches = picomatch(pattern, { dot: true });
    return pattern.includes('/')
      ? matches
      : (relativePath: string) => matches(path.posix.basename(relativePath));
  });
  return (relativePath) => matchers.some((matches) => matches(relativePath));
}
