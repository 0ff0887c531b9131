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

/** Lower-case words, apostrophes kept, punctuation dropped. */
export function wordsOf(text: string): string[] {
  return (
    normalise(text)
      .toLowerCase()
      .match(/[\p{L}\p{M}']+/gu) ?? []
  );
}

/** Word error rate of `actual` against `expected`: (substitutions + insertions + deletions) / expected words. */
export function wordErrorRate(expected: string, actual: string): number {
  const e = wordsOf(expected);
  const a = wordsOf(actual);
  if (e.length === 0) return a.length === 0 ? 0 : 1;
  return levenshtein(e, a) / e.length;
}

export type AlignmentOp =
  | { op: 'match' | 'sub'; e: number; a: number }
  | { op: 'ins'; a: number }
  | { op: 'del'; e: number };

/** Word alignment of `actual` to `expected` (minimum edit distance), in order. */
export function alignWords(expected: readonly string[], actual: readonly string[]): AlignmentOp[] {
  const rows = expected.length + 1;
  const cols = actual.length + 1;
  const cost = new Uint32Array(rows * cols);
  for (let i = 0; i < rows; i++) cost[i * cols] = i;
  for (let j = 0; j < cols; j++) cost[j] = j;
  for (let i = 1; i < rows; i++) {
    for (let j = 1; j < cols; j++) {
      const same = expected[i - 1] === actual[j - 1] ? 0 : 1;
      cost[i * cols + j] = Math.min(
        (cost[(i - 1) * cols + j] ?? 0) + 1,
        (cost[i * cols + j - 1] ?? 0) + 1,
        (cost[(i - 1) * cols + j - 1] ?? 0) + same,
      );
    }
  }
  const ops: AlignmentOp[] = [];
  let i = expected.length;
  let j = actual.length;
  while (i > 0 || j > 0) {
    const here = cost[i * cols + j] ?? 0;
    if (
      i > 0 &&
      j > 0 &&
      here === (cost[(i - 1) * cols + j - 1] ?? 0) + (expected[i - 1] === actual[j - 1] ? 0 : 1)
    ) {
      ops.push({ op: expected[i - 1] === actual[j - 1] ? 'match' : 'sub', e: i - 1, a: j - 1 });
      i -= 1;
      j -= 1;
    } else if (j > 0 && here === (cost[i * cols + j - 1] ?? 0) + 1) {
      ops.push({ op: 'ins', a: j - 1 });
      j -= 1;
    } else {
      ops.push({ op: 'del', e: i - 1 });
      i -= 1;
    }
  }
  return ops.reverse();
}
