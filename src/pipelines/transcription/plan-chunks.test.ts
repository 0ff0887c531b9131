import { describe, expect, it } from 'vitest';
import { planChunks } from './plan-chunks.js';

/** 20 ms frames: speech (power 0.01) with silent pauses at the given seconds. */
function energyWithPauses(totalSec: number, pauses: Array<[number, number]>) {
  const frameSec = 0.02;
  const framePower = new Float32Array(Math.round(totalSec / frameSec)).fill(0.01);
  for (const [from, to] of pauses) framePower.fill(0, Math.round(from / frameSec), Math.round(to / frameSec));
  return { framePower, frameSec, durationSec: totalSec };
}

describe('planChunks', () => {
  it('cuts in the middle of the longest pause near each target, covering the recording without gaps', () => {
    const energy = energyWithPauses(100, [
      [27, 27.3],
      [31, 32],
      [58, 58.4],
      [65, 65.2],
    ]);
    const chunks = planChunks(energy, { targetSec: 30, overlapSec: 1 });
    // The last cut falls in speech: nothing quiet lies within 70–130 % of the target after 58 s.
    expect(chunks.map((chunk) => chunk.start)).toEqual([0, 31.49, 58.19, 88.19]);
    expect(chunks.map((chunk) => chunk.cutAtSilence)).toEqual([true, true, true, false]);
    expect(chunks.at(-1)?.end).toBe(100);
    for (let i = 1; i < chunks.length; i++) {
      expect(chunks[i]?.start).toBe(chunks[i - 1]?.end);
      expect(chunks[i]?.audioStart).toBeCloseTo((chunks[i]?.start ?? 0) - 1, 6);
    }
  });

  it('cuts in speech, and says so, when there is no pause at all', () => {
    const chunks = planChunks(energyWithPauses(70, []), { targetSec: 30, overlapSec: 1 });
    expect(chunks.map((chunk) => chunk.start)).toEqual([0, 30.01, 60.01]);
    expect(chunks[1]?.cutAtSilence).toBe(false);
  });

  it('keeps every chunk, overlap included, within an engine limit', () => {
    const chunks = planChunks(energyWithPauses(600, []), { targetSec: 300, overlapSec: 2, maxSec: 104 });
    for (const chunk of chunks) expect(chunk.audioEnd - chunk.audioStart).toBeLessThanOrEqual(104);
  });

  it('makes one chunk of a short recording', () => {
    expect(planChunks(energyWithPauses(20, []), { targetSec: 60, overlapSec: 1 })).toEqual([
      { index: 0, start: 0, end: 20, audioStart: 0, audioEnd: 20, cutAtSilence: true },
    ]);
  });
});
