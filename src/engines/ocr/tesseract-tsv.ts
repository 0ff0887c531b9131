/** Text, mean confidence and word count rebuilt from tesseract's TSV output (one row per word). */
export function parseTesseractTsv(tsv: string): {
  text: string;
  meanConfidence: number | null;
  wordCount: number;
} {
  const paragraphs: string[][] = [];
  let currentParagraph = '';
  let currentLine = '';
  let lineWords: string[] = [];
  let paragraphLines: string[] = [];
  let confidenceSum = 0;
  let words = 0;
  const flushLine = () => {
    if (lineWords.length > 0) paragraphLines.push(lineWords.join(' '));
    lineWords = [];
  };
  const flushParagraph = () => {
    flushLine();
    if (paragraphLines.length > 0) paragraphs.push(paragraphLines);
    paragraphLines = [];
  };
  for (const row of tsv.split('\n').slice(1)) {
    const cells = row.split('\t');
    if (cells.length < 12 || cells[0] !== '5') continue;
    const [, page, block, par, line, , , , , , conf, ...rest] = cells;
    const word = rest.join('\t').trim();
    if (!word) continue;
    const paragraphKey = `${page}.${block}.${par}`;
    const lineKey = `${paragraphKey}.${line}`;
    if (paragraphKey !== currentParagraph) {
      flushParagraph();
      currentParagraph = paragraphKey;
    } else if (lineKey !== currentLine) {
      flushLine();
    }
    currentLine = lineKey;
    lineWords.push(word);
    const confidence = Number(conf);
    if (confidence >= 0) {
      confidenceSum += confidence;
      words++;
    }
  }
  flushParagraph();
  return {
    text: paragraphs.map((lines) => lines.join('\n')).join('\n\n'),
    meanConfidence: words > 0 ? Math.round((confidenceSum / words) * 10) / 1000 : null,
    wordCount: words,
  };
}
