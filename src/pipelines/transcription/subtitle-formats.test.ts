import { describe, expect, it } from 'vitest';
import {
  buildCues,
  formatSrtTimestamp,
  formatVttTimestamp,
  renderSrt,
  renderVtt,
  SUBTITLE_LIMITS,
} from './subtitle-formats.js';

describe('subtitle timestamps', () => {
  it('writes SRT times with a comma and VTT times with a full stop', () => {
    expect(formatSrtTimestamp(1.5)).toBe('00:00:01,500');
    expect(formatVttTimestamp(1.5)).toBe('00:00:01.500');
  });

  it('carries hours, minutes and seconds', () => {
    expect(formatSrtTimestamp(3 * 3600 + 25 * 60 + 7.042)).toBe('03:25:07,042');
    expect(formatVttTimestamp(59.999)).toBe('00:00:59.999');
  });

  it('rounds to whole milliseconds without producing a fourth millisecond digit', () => {
    expect(formatSrtTimestamp(1.9996)).toBe('00:00:02,000');
    expect(formatVttTimestamp(59.9999)).toBe('00:01:00.000');
    expect(formatVttTimestamp(0.1 + 0.2)).toBe('00:00:00.300');
  });

  it('never writes a negative time', () => {
    expect(formatSrtTimestamp(-0.2)).toBe('00:00:00,000');
  });
});

describe('subtitle files', () => {
  const segments = [
    { start: 0.19, end: 4.33, text: 'the quick brown fox' },
    { start: 5, end: 7.25, text: '  ' },
    { start: 10.9, end: 12.5, text: 'fish &\nchips <b>' },
  ];

  it('numbers SRT cues from 1, skips empty segments and keeps each cue on one text line', () => {
    expect(renderSrt(segments)).toBe(
      '1\n00:00:00,190 --> 00:00:04,330\nthe quick brown fox\n\n2\n00:00:10,900 --> 00:00:12,500\nfish & chips <b>\n',
    );
  });

  it('starts WebVTT with its header and escapes markup characters in cue text', () => {
    expect(renderVtt(segments)).toBe(
      'WEBVTT\n\n00:00:00.190 --> 00:00:04.330\nthe quick brown fox\n\n00:00:10.900 --> 00:00:12.500\nfish &amp; chips &lt;b&gt;\n',
    );
  });

  it('writes a valid, empty WebVTT file when nothing was said', () => {
    expect(renderVtt([])).toBe('WEBVTT\n');
    expect(renderSrt([])).toBe('');
  });
});

describe('subtitle limits', () => {
  const long = {
    start: 0,
    end: 30,
    text: 'the river has given us food water and work for a very long time and now it is our turn to give something back to it and to the children who will live here after us',
  };

  it('keeps lines within 42 characters, cues within 2 lines and 7 seconds, never overlapping', () => {
    const cues = buildCues([long, { start: 30.2, end: 30.4, text: 'yes' }]);
    expect(cues.length).toBeGreaterThan(4);
    let previousEnd = 0;
    for (const cue of cues) {
      expect(cue.lines.length).toBeLessThanOrEqual(SUBTITLE_LIMITS.maxLines);
      for (const line of cue.lines)
        expect([...line].length).toBeLessThanOrEqual(SUBTITLE_LIMITS.maxLineChars);
      expect(cue.end - cue.start).toBeLessThanOrEqual(SUBTITLE_LIMITS.maxCueSec + 1e-9);
      expect(cue.start).toBeGreaterThanOrEqual(previousEnd);
      expect(cue.end).toBeGreaterThan(cue.start);
      previousEnd = cue.end;
    }
    expect(cues.flatMap((cue) => cue.lines).join(' ')).toBe(`${long.text} yes`);
  });

  it('holds a short cue for 5/6 s when the next one leaves room', () => {
    const [cue] = buildCues([{ start: 1, end: 1.2, text: 'yes' }]);
    expect(cue?.end).toBeCloseTo(1 + 5 / 6, 3);
  });
});
