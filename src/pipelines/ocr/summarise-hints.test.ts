import { describe, expect, it } from 'vitest';
import type { PageResult } from './page-checkpoints.js';
import { summariseHints } from './page-hints.js';

const page = (n: number, hints: string[]): PageResult => ({
  page: n,
  source: 'ocr',
  text: '',
  confidence: 0.5,
  engine: 'tesseract',
  hints,
});

describe('summariseHints', () => {
  it('writes one sentence per kind of problem, naming its pages', () => {
    const sentences = summariseHints([
      page(1, ['blurry']),
      page(2, []),
      page(3, ['blurry', 'wrong_language_suspected:Devanagari']),
    ]);
    expect(sentences).toEqual([
      'Pages 1, 3 look blurry: rescan them sharper or at a higher resolution.',
      "Page 3 look like Devanagari script, which the job's languages do not cover: try hin or mar or san or nep.",
    ]);
  });
});
