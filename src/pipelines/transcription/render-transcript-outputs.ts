import type { Segment } from '../../engines/speech/speech-engine.js';
import { renderSrt, renderVtt } from './subtitle-formats.js';

export interface TranscriptOutputs {
  txt: string;
  srt: string;
  vtt: string;
  json: string;
}

const roundMs = (seconds: number) => Math.round(seconds * 1000) / 1000;

/** Every download format of a transcript: plain text (a paragraph per segment), SRT, WebVTT and JSON. */
export function renderTranscriptOutputs(
  segments: readonly Segment[],
  mediaDurationSec: number,
): TranscriptOutputs {
  const spoken = segments.filter((segment) => segment.text.trim().length > 0);
  return {
    txt: spoken.map((segment) => segment.text.trim()).join('\n'),
    srt: renderSrt(spoken),
    vtt: renderVtt(spoken),
    json: JSON.stringify(
      {
        segments: spoken.map((segment) => ({
          start: roundMs(segment.start),
          end: roundMs(segment.end),
          text: segment.text.trim(),
        })),
        media_duration_sec: roundMs(mediaDurationSec),
      },
      null,
      2,
    ),
  };
}
