/**
 * A strict reader of the SubRip and WebVTT files the service renders, written from the formats'
 * grammar rather than from our renderer, so a test can check every cue of a real transcript.
 */
export interface ParsedCue {
  /** SRT: the cue number as written; VTT: its position from 1. */
  index: number;
  start: number;
  end: number;
  lines: string[];
}

const SRT_TIME = /^(\d{2}):([0-5]\d):([0-5]\d),(\d{3}) --> (\d{2}):([0-5]\d):([0-5]\d),(\d{3})$/;
const VTT_TIME = /^(\d{2}):([0-5]\d):([0-5]\d)\.(\d{3}) --> (\d{2}):([0-5]\d):([0-5]\d)\.(\d{3})$/;

const seconds = (h: string, m: string, s: string, ms: string) =>
  Number(h) * 3600 + Number(m) * 60 + Number(s) + Number(ms) / 1000;

function parseTimes(line: string, pattern: RegExp, where: string): { start: number; end: number } {
  const match = pattern.exec(line);
  if (!match) throw new Error(`${where}: malformed timing line ${JSON.stringify(line)}`);
  const [, h1, m1, s1, ms1, h2, m2, s2, ms2] = match as unknown as string[];
  return {
    start: seconds(h1 as string, m1 as string, s1 as string, ms1 as string),
    end: seconds(h2 as string, m2 as string, s2 as string, ms2 as string),
  };
}

function blocksOf(body: string, where: string): string[][] {
  if (!body.endsWith('\n')) throw new Error(`${where}: does not end with a line break`);
  if (/\r/.test(body)) throw new Error(`${where}: carriage returns`);
  if (/\n\n\n/.test(body)) throw new Error(`${where}: more than one blank line between cues`);
  return body
    .slice(0, -1)
    .split('\n\n')
    .map((block) => block.split('\n'));
}

export function parseSrt(text: string): ParsedCue[] {
  return blocksOf(text, 'srt').map((lines, i) => {
    const where = `srt cue ${i + 1}`;
    if (lines[0] !== String(i + 1)) throw new Error(`${where}: numbered ${JSON.stringify(lines[0])}`);
    const times = parseTimes(lines[1] ?? '', SRT_TIME, where);
    return { index: i + 1, ...times, lines: lines.slice(2) };
  });
}

export function parseVtt(text: string): ParsedCue[] {
  if (!text.startsWith('WEBVTT\n\n')) throw new Error('vtt: no WEBVTT header followed by a blank line');
  return blocksOf(text.slice('WEBVTT\n\n'.length), 'vtt').map((lines, i) => {
    const where = `vtt cue ${i + 1}`;
    const times = parseTimes(lines[0] ?? '', VTT_TIME, where);
    const cueText = lines.slice(1);
    for (const line of cueText) {
      // Cue text is markup: a raw `<` or an `&` that starts no entity would be read as a tag or entity.
      if (/<|&(?!amp;|lt;|gt;)/.test(line) || line.includes('-->')) {
        throw new Error(`${where}: unescaped markup in ${JSON.stringify(line)}`);
      }
    }
    return {
      index: i + 1,
      ...times,
      lines: cueText.map((line) =>
        line.replaceAll('&lt;', '<').replaceAll('&gt;', '>').replaceAll('&amp;', '&'),
      ),
    };
  });
}

export interface CueLimits {
  maxLineChars: number;
  maxLines: number;
  minCueSec: number;
  maxCueSec: number;
}

/**
 * Every rule a cue list must keep; returns the broken ones (empty when all hold), each naming
 * its cue, so a failing test says which cue and why.
 */
export function cueProblems(
  cues: readonly ParsedCue[],
  limits: CueLimits,
  mediaDurationSec: number,
): string[] {
  const problems: string[] = [];
  let previousEnd = 0;
  for (const [i, cue] of cues.entries()) {
    const at = `cue ${cue.index} (${cue.start}–${cue.end})`;
    if (!(cue.end > cue.start)) problems.push(`${at}: ends before it starts`);
    if (cue.start < previousEnd)
      problems.push(`${at}: overlaps the previous cue, which ends at ${previousEnd}`);
    if (cue.end > mediaDurationSec + 0.05) problems.push(`${at}: ends after the recording`);
    if (cue.end - cue.start > limits.maxCueSec + 0.0005)
      problems.push(`${at}: shown longer than ${limits.maxCueSec} s`);
    // Held for the minimum unless the next cue starts first.
    const nextStart = cues[i + 1]?.start ?? Number.POSITIVE_INFINITY;
    if (cue.end - cue.start < limits.minCueSec - 0.0005 && cue.end < nextStart) {
      problems.push(`${at}: shown shorter than ${limits.minCueSec} s although the next cue leaves room`);
    }
    if (cue.lines.length === 0 || cue.lines.length > limits.maxLines) {
      problems.push(`${at}: ${cue.lines.length} lines`);
    }
    for (const line of cue.lines) {
      if (line.trim() === '' || line !== line.trim()) problems.push(`${at}: blank or padded line`);
      if ([...line].length > limits.maxLineChars)
        problems.push(`${at}: line of ${[...line].length} characters`);
    }
    previousEnd = cue.end;
  }
  return problems;
}
