import type { Segment } from '../../engines/speech/speech-engine.js';

function splitTime(seconds: number): { hours: string; minutes: string; secs: string; millis: string } {
  // Whole milliseconds first, so 1.9996 s becomes 00:00:02,000 rather than 00:00:01,1000.
  const totalMs = Math.max(0, Math.round(seconds * 1000));
  const pad = (value: number, width: number) => String(value).padStart(width, '0');
  return {
    hours: pad(Math.floor(totalMs / 3_600_000), 2),
    minutes: pad(Math.floor(totalMs / 60_000) % 60, 2),
    secs: pad(Math.floor(totalMs / 1000) % 60, 2),
    millis: pad(totalMs % 1000, 3),
  };
}

/** `00:00:01,500`: SubRip uses a comma before the milliseconds. */
export function formatSrtTimestamp(seconds: number): string {
  const t = splitTime(seconds);
  return `${t.hours}:${t.minutes}:${t.secs},${t.millis}`;
}

/** `00:00:01.500`: WebVTT uses a full stop. */
export function formatVttTimestamp(seconds: number): string {
  const t = splitTime(seconds);
  return `${t.hours}:${t.minutes}:${t.secs}.${t.millis}`;
}

/** A blank line ends a cue in both formats, so cue text stays on one line. */
function cueText(text: string): string {
  return text.replace(/\s+/g, ' ').trim();
}

function cues(segments: readonly Segment[]): Array<{ start: number; end: number; text: string }> {
  return segments
    .map((segment) => ({
      start: segment.start,
      end: Math.max(segment.start, segment.end),
      text: cueText(segment.text),
    }))
    .filter((cue) => cue.text.length > 0);
}

/** SubRip: numbered cues separated by blank lines. */
export function renderSrt(segments: readonly Segment[]): string {
  return cues(segments)
    .map(
      (cue, index) =>
        `${index + 1}\n${formatSrtTimestamp(cue.start)} --> ${formatSrtTimestamp(cue.end)}\n${cue.text}\n`,
    )
    .join('\n');
}

/** WebVTT cue text is markup: `&`, `<` and `>` must be escaped. */
function escapeVtt(text: string): string {
  return text.replaceAll('&', '&amp;').replaceAll('<', '&lt;').replaceAll('>', '&gt;');
}

/** WebVTT: a `WEBVTT` header, then cues separated by blank lines. */
export function renderVtt(segments: readonly Segment[]): string {
  const body = cues(segments)
    .map(
      (cue) =>
        `${formatVttTimestamp(cue.start)} --> ${formatVttTimestamp(cue.end)}\n${escapeVtt(cue.text)}\n`,
    )
    .join('\n');
  return body ? `WEBVTT\n\n${body}` : 'WEBVTT\n';
}
