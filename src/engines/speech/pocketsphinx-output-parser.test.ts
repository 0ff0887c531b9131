import { describe, expect, it } from 'vitest';
import { PocketsphinxOutputParser } from './pocketsphinx-output-parser.js';
import type { Segment } from './speech-engine.js';

/** Real `pocketsphinx_continuous -time yes` output (Debian 0.8) for two utterances of flite speech. */
const OUTPUT = `good morning everyone today we will talk about the river
<s> 0.110 0.180 0.999800
good 0.190 0.440 0.999800
morning 0.450 0.950 0.999800
everyone 0.960 1.550 0.999700
<sil> 1.560 1.580 0.669954
today 1.590 1.990 0.874139
we 2.000 2.180 0.999700
will(2) 2.190 2.370 0.579399
talk 2.380 2.800 0.928107
about 2.810 3.190 0.999800
[NOISE] 3.200 3.290 0.500000
the 3.300 3.390 0.900764
river 3.400 3.620 0.985012
</s> 3.630 3.900 1.000000
the quick brown fox
<s> 10.900 10.970 1.000400
the 10.980 11.170 0.994614
quick 11.180 11.490 0.969860
brown 11.500 11.930 1.000300
fox 11.940 12.340 1.000300
</s> 12.350 12.740 1.000000
`;

function parseAll(output: string): { segments: Segment[]; completedAt: number[] } {
  const parser = new PocketsphinxOutputParser();
  const segments: Segment[] = [];
  const completedAt: number[] = [];
  output.split('\n').forEach((line, index) => {
    const segment = parser.push(line);
    if (segment) {
      segments.push(segment);
      completedAt.push(index);
    }
  });
  const last = parser.finish();
  if (last) segments.push(last);
  return { segments, completedAt };
}

describe('PocketsphinxOutputParser', () => {
  it('makes one segment per utterance from the word lines, without fillers or pronunciation marks', () => {
    const { segments } = parseAll(OUTPUT);
    expect(segments.map((segment) => segment.text)).toEqual([
      'good morning everyone today we will talk about the river',
      'the quick brown fox',
    ]);
    expect(segments[0]).toMatchObject({ start: 0.19, end: 3.62 });
    expect(segments[1]).toMatchObject({ start: 10.98, end: 12.34 });
  });

  it('completes each segment on its </s> line, as the engine prints it', () => {
    const lines = OUTPUT.split('\n');
    const { completedAt } = parseAll(OUTPUT);
    expect(completedAt.map((index) => lines[index]?.split(' ')[0])).toEqual(['</s>', '</s>']);
  });

  it('keeps confidences between 0 and 1 although the engine prints 1.0004', () => {
    const { segments } = parseAll(
      'the quick\n<s> 0.1 0.2 1.000400\nthe 0.2 0.3 1.000300\nquick 0.3 0.6 0.9\n</s> 0.6 0.7 1.0\n',
    );
    expect(segments[0]?.confidence).toBe(0.95);
  });

  it('closes an utterance whose </s> never came, at the next hypothesis or at the end', () => {
    const { segments } = parseAll('hello\nhello 0.1 0.5 0.9\nworld\nworld 1.0 1.5 0.8');
    expect(segments.map((segment) => segment.text)).toEqual(['hello', 'world']);
  });

  it('makes no segment from an utterance of silence and noise only', () => {
    const { segments } = parseAll(
      '\n<s> 0.0 0.1 1.0\n<sil> 0.1 0.5 0.9\n++UH++ 0.5 0.7 0.3\n</s> 0.7 0.8 1.0\n',
    );
    expect(segments).toEqual([]);
  });
});
