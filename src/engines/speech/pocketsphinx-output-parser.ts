import type { Segment, Word } from './speech-engine.js';

/** `word start end confidence`, as `pocketsphinx_continuous -time yes` prints one per word. */
const WORD_LINE = /^(\S+) (\d+(?:\.\d+)?) (\d+(?:\.\d+)?) (-?\d+(?:\.\d+)?)$/;
/** Alternative pronunciations are marked `will(2)`; the word is the same. */
const PRONUNCIATION_SUFFIX = /\(\d+\)$/;

/** `<s>`, `</s>`, `<sil>`, `[NOISE]`, `[SPEECH]`, `++UH++`: markers from the noise dictionary, not speech. */
function isFiller(token: string): boolean {
  return /^<.*>$/.test(token) || /^\[.*\]$/.test(token) || /^\+\+.*\+\+$/.test(token);
}

/**
 * Turns `pocketsphinx_continuous -time yes` stdout, line by line, into one segment per utterance.
 * Each utterance is printed as its hypothesis line followed by one line per word, `<s>` first and
 * `</s>` last; the hypothesis line is ignored because the word lines carry the same words with times.
 */
export class PocketsphinxOutputParser {
  private words: Word[] = [];

  /** Feeds one stdout line; returns the segment it completes, if any. */
  push(line: string): Segment | null {
    const match = WORD_LINE.exec(line.trim());
    if (!match) {
      // A hypothesis line starts the next utterance: close one whose `</s>` never came.
      return this.finish();
    }
    const [, token = '', start, end, confidence] = match;
    if (token === '</s>') return this.finish();
    if (isFiller(token)) return null;
    this.words.push({
      text: token.replace(PRONUNCIATION_SUFFIX, ''),
      start: Number(start),
      end: Number(end),
      // The posterior is a probability but comes out slightly above 1 (1.000400) after rounding.
      confidence: Math.min(1, Math.max(0, Number(confidence))),
    });
    return null;
  }

  /** Closes the utterance in progress when the output ends. */
  finish(): Segment | null {
    const words = this.words;
    this.words = [];
    const first = words[0];
    const last = words[words.length - 1];
    if (!first || !last) return null;
    const confidence = words.reduce((sum, word) => sum + (word.confidence ?? 0), 0) / words.length;
    return {
      start: first.start,
      end: last.end,
      text: words.map((word) => word.text).join(' '),
      confidence: Math.round(confidence * 1000) / 1000,
      words,
    };
  }
}
