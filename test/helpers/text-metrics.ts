/** Accuracy measures for engine output against the text a fixture was made from. */

function normalise(text: string): string {
  return text.normalize('NFC').replace(/\s+/g, ' ').trim();
}

function levenshtein(a: readonly string[], b: readonly string[]): number {
  let previous = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    for (let j = 1; j <= b.length; j++) {
      const substitution = (previous[j - 1] ?? 0) + (a[i - 1] === b[j - 1] ? 0 : 1);
      current[j] = Math.min((previous[j] ?? 0) + 1, (current[j - 1] ?? 0) + 1, substitution);
    }
    previous = current;
  }
  return previous[b.length] ?? 0;
}

/** Character error rate of `actual` against `expected`, whitespace-normalised, by code point. */
export function characterErrorRate(expected: string, actual: string): number {
  const e = [...normalise(expected)];
  const a = [...normalise(actual)];
  if (e.length === 0) return a.length === 0 ? 0 : 1;
  return levenshtein(e, a) / e.length;
}

/** Share of the expected words (case-insensitive) that appear in `actual`. */
export function wordRecall(expected: string, actual: string): number {
  const words = (text: string) =>
    normalise(text)
      .toLowerCase()
      .match(/[\p{L}\p{M}']+/gu) ?? [];
  const found = new Set(words(actual));
  const wanted = words(expected);
  if (wanted.length === 0) return 1;
  return wanted.filter((w) => found.has(w)).length / wanted.length;
}
