/** Where a recording is cut for the engine, from the per-frame power of its decoded samples. */

export interface ChunkPlanOptions {
  /** Wished length of one chunk; each cut is placed at the quietest moment near it. */
  targetSec: number;
  /** Audio added on both sides of a chunk so that a word cut in speech is heard whole once. */
  overlapSec: number;
  /** Hard ceiling of the audio one engine call may get (cloud request limits), overlap included. */
  maxSec?: number;
}

export interface PlannedChunk {
  index: number;
  /** The stretch this chunk owns: words whose middle falls here are kept from this chunk. */
  start: number;
  end: number;
  /** The audio actually given to the engine: the owned stretch plus the overlap on each side. */
  audioStart: number;
  audioEnd: number;
  /** False when no silence was found near the target and the cut falls in speech. */
  cutAtSilence: boolean;
}

/** Cuts are searched from 70 % to 130 % of the target length after the previous cut. */
const SEARCH_FROM = 0.7;
const SEARCH_TO = 1.3;
/** Power is averaged over 300 ms, so a cut lands in a pause, not between two syllables. */
const SMOOTH_SEC = 0.3;
/** Below about -50 dBFS, or four times the recording's own noise floor, counts as silence. */
const ABSOLUTE_SILENCE_POWER = 1e-5;
const NOISE_FLOOR_FACTOR = 4;
const MEDIAN_SHARE = 0.1;

function percentile(values: Float32Array, share: number): number {
  if (values.length === 0) return 0;
  const sorted = Float32Array.from(values).sort();
  return sorted[Math.min(sorted.length - 1, Math.floor(share * sorted.length))] ?? 0;
}

/** Mean power over a centred window, from prefix sums (one pass, any length). */
function smoothed(framePower: Float32Array, windowFrames: number): Float64Array {
  const prefix = new Float64Array(framePower.length + 1);
  for (let i = 0; i < framePower.length; i++) prefix[i + 1] = (prefix[i] ?? 0) + (framePower[i] ?? 0);
  const half = Math.floor(windowFrames / 2);
  const out = new Float64Array(framePower.length);
  for (let i = 0; i < framePower.length; i++) {
    const from = Math.max(0, i - half);
    const to = Math.min(framePower.length, i + half + 1);
    out[i] = ((prefix[to] ?? 0) - (prefix[from] ?? 0)) / (to - from);
  }
  return out;
}

export function planChunks(
  energy: { framePower: Float32Array; frameSec: number; durationSec: number },
  options: ChunkPlanOptions,
): PlannedChunk[] {
  const total = energy.durationSec;
  const overlap = Math.max(0, options.overlapSec);
  const ceiling = options.maxSec === undefined ? Number.POSITIVE_INFINITY : options.maxSec - 2 * overlap;
  if (ceiling <= 1) throw new RangeError('the chunk overlap leaves no room under the engine limit');
  const target = Math.max(1, Math.min(options.targetSec, ceiling));
  const power = smoothed(energy.framePower, Math.max(1, Math.round(SMOOTH_SEC / energy.frameSec)));
  const silence = silencePower(energy.framePower);

  const cuts: Array<{ at: number; silent: boolean }> = [];
  let cursor = 0;
  while (total - cursor > Math.min(target * SEARCH_TO, ceiling)) {
    const from = Math.floor((cursor + target * SEARCH_FROM) / energy.frameSec);
    const to = Math.min(
      Math.floor((cursor + Math.min(target * SEARCH_TO, ceiling)) / energy.frameSec),
      power.length - 1,
    );
    const wished = (cursor + target) / energy.frameSec;
    let quietest = Number.POSITIVE_INFINITY;
    for (let i = from; i <= to; i++) quietest = Math.min(quietest, power[i] ?? Number.POSITIVE_INFINITY);
    // Every frame about as quiet as the quietest, or silent outright, is a candidate; the longest
    // pause wins (a sentence end rather than a breath), then the one nearest the wished length.
    // Lengths are compared in 100 ms steps so that codec noise cannot move a cut to another pause.
    const quiet = Math.max(quietest * 2 + 1e-12, silence);
    const bucket = Math.max(1, Math.round(0.1 / energy.frameSec));
    let best = Math.min(to, Math.max(from, Math.round(wished)));
    let bestLength = -1;
    let bestDistance = Number.POSITIVE_INFINITY;
    let runStart = -1;
    for (let i = from; i <= to + 1; i++) {
      const isQuiet = i <= to && (power[i] ?? Number.POSITIVE_INFINITY) <= quiet;
      if (isQuiet && runStart < 0) runStart = i;
      if (!isQuiet && runStart >= 0) {
        const middle = Math.floor((runStart + i - 1) / 2);
        const length = Math.floor((i - runStart) / bucket);
        const distance = Math.abs(middle - wished);
        if (length > bestLength || (length === bestLength && distance < bestDistance)) {
          best = middle;
          bestLength = length;
          bestDistance = distance;
        }
        runStart = -1;
      }
    }
    const at = Math.round((best + 0.5) * energy.frameSec * 1000) / 1000;
    if (at <= cursor) break;
    cuts.push({ at, silent: (power[best] ?? Number.POSITIVE_INFINITY) <= silence });
    cursor = at;
  }

  const bounds = [0, ...cuts.map((cut) => cut.at), total];
  return bounds.slice(0, -1).map((start, index) => {
    const end = bounds[index + 1] ?? total;
    return {
      index,
      start,
      end,
      audioStart: Math.max(0, start - overlap),
      audioEnd: Math.min(total, end + overlap),
      cutAtSilence: index === 0 ? true : (cuts[index - 1]?.silent ?? true),
    };
  });
}

/** Power above which a frame counts as sound rather than silence, for this recording. */
export function silencePower(framePower: Float32Array): number {
  const floor = Math.max(ABSOLUTE_SILENCE_POWER, NOISE_FLOOR_FACTOR * percentile(framePower, 0.1));
  // A recording with few pauses has speech at its 10th percentile: stay 10 dB under the median.
  return Math.min(floor, Math.max(ABSOLUTE_SILENCE_POWER, MEDIAN_SHARE * percentile(framePower, 0.5)));
}

/** Share of the frames of `[start, end)` louder than silence: tells "nothing said" from "nothing recognised". */
export function soundShare(
  energy: { framePower: Float32Array; frameSec: number },
  start: number,
  end: number,
  threshold: number,
): number {
  const from = Math.max(0, Math.floor(start / energy.frameSec));
  const to = Math.min(energy.framePower.length, Math.ceil(end / energy.frameSec));
  if (to <= from) return 0;
  let loud = 0;
  for (let i = from; i < to; i++) if ((energy.framePower[i] ?? 0) > threshold) loud += 1;
  return loud / (to - from);
}

/** How the sound of a stretch behaves: how much of it is sound, and how much its loudness moves. */
export interface SoundCharacter {
  /** Share of frames louder than silence. */
  soundShare: number;
  /** Seconds of those frames. */
  soundSec: number;
  /**
   * Standard deviation, in dB, of the power of the sound frames: speech rises and falls with every
   * syllable (~8 dB on the test talk), steady noise, a tone or sustained music hardly move (≤ 2 dB).
   * Null with under half a second of sound.
   */
  spreadDb: number | null;
}

export function soundCharacter(
  energy: { framePower: Float32Array; frameSec: number },
  start: number,
  end: number,
  threshold: number,
): SoundCharacter {
  const from = Math.max(0, Math.floor(start / energy.frameSec));
  const to = Math.min(energy.framePower.length, Math.ceil(end / energy.frameSec));
  let count = 0;
  let sum = 0;
  let sumSquares = 0;
  for (let i = from; i < to; i++) {
    const power = energy.framePower[i] ?? 0;
    if (power <= threshold) continue;
    const db = 10 * Math.log10(power);
    count += 1;
    sum += db;
    sumSquares += db * db;
  }
  const frames = Math.max(0, to - from);
  const mean = count > 0 ? sum / count : 0;
  return {
    soundShare: frames > 0 ? count / frames : 0,
    soundSec: count * energy.frameSec,
    spreadDb:
      count * energy.frameSec >= 0.5 ? Math.sqrt(Math.max(0, sumSquares / count - mean * mean)) : null,
  };
}
