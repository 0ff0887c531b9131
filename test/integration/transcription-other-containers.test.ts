import { createHash } from 'node:crypto';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PocketsphinxEngine } from '../../src/engines/speech/pocketsphinx-engine.js';
import { decodeToWav } from '../../src/media/ffmpeg/decode-to-wav.js';
import { findDataOffset } from '../../src/media/ffmpeg/read-wav-data-offset.js';
import { createLogger } from '../../src/observability/logger.js';
import type { PipelineResult } from '../../src/pipelines/pipeline.js';
import { createTranscriptionPipeline } from '../../src/pipelines/transcription/run-transcription-pipeline.js';
import {
  encodeSpeech,
  makeSpokenWav,
  type PcmVideoContainer,
  RIVER_TALK_SCRIPT,
  type SpeechContainer,
} from '../helpers/make-media-fixtures.js';
import { wordErrorRate } from '../helpers/text-metrics.js';

/**
 * The allowlisted inputs that transcription-containers.test.ts does not cover (it has the 3-minute
 * talk in WAV, MP3, M4A, MP4 and WebM): FLAC, OGG/Opus, WMA, MOV, MKV and AVI, each a ~20 s clip
 * through the whole pipeline with real pocketsphinx, compared with the same clip as WAV.
 *
 * Every input is decoded to the same 16 kHz mono PCM, so a lossless one (FLAC, or the WAV's PCM
 * carried in MOV, MKV or AVI) gives the engine the very samples of the WAV, and pocketsphinx, being
 * deterministic, the very same segments. A lossy codec (Opus, WMA, AAC, MP3) changes the samples:
 * pocketsphinx then hears a word or two differently, hence the tolerance for those.
 */
const LOSSY: SpeechContainer[] = ['ogg', 'wma', 'mov', 'mkv', 'avi'];
const PCM_IN_VIDEO: PcmVideoContainer[] = ['mov', 'mkv', 'avi'];
/** The first three sentences of the river talk: about 20 s of speech. */
const SCRIPT = RIVER_TALK_SCRIPT.split('\n').slice(0, 3).join('\n');

let dir: string;
let wav: string;
let wavResult: PipelineResult;
const encoded = new Map<string, string>();

async function transcribe(label: string, inputPath: string) {
  const logs: Array<Record<string, unknown>> = [];
  const result = await createTranscriptionPipeline({
    engine: new PocketsphinxEngine(),
    maxDurationSec: 600,
    chunking: { targetSec: 60, overlapSec: 1, inFlight: 1 },
  })(
    {
      jobId: `other-containers-${label}`,
      inputPath,
      inputMime: 'application/octet-stream',
      language: 'en',
      contentSubtype: 'general',
      workDir: await mkdtemp(path.join(dir, `work-${label}-`)),
    },
    {
      signal: new AbortController().signal,
      logger: createLogger({
        level: 'info',
        role: 'test',
        destination: { write: (line) => logs.push(JSON.parse(line) as Record<string, unknown>) },
      }),
      reportProgress: async () => {},
    },
  );
  return { result, decoded: logs.find((entry) => entry.event === 'transcription.decoded') };
}

/** SHA-256 of the 16 kHz mono samples the pipeline's decode makes of a file. */
async function pcmSha256(inputPath: string): Promise<string> {
  const decoded = await decodeToWav(inputPath, path.join(dir, `pcm-${path.basename(inputPath)}.wav`));
  const bytes = await readFile(decoded.wavPath);
  return createHash('sha256')
    .update(bytes.subarray(findDataOffset(bytes) ?? 44))
    .digest('hex');
}

beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'dt-other-containers-'));
  wav = await makeSpokenWav(dir, SCRIPT);
  wavResult = (await transcribe('wav', wav)).result;
  for (const container of LOSSY) encoded.set(container, await encodeSpeech(wav, container));
  encoded.set('flac', await encodeSpeech(wav, 'flac'));
  for (const container of PCM_IN_VIDEO) {
    encoded.set(`${container} (pcm)`, await encodeSpeech(wav, container, 'pcm'));
  }
}, 120_000);

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('FLAC, OGG/Opus, WMA, MOV, MKV and AVI, lossless and lossy (a 20 s clip, pocketsphinx)', () => {
  it('the WAV itself is recognised', () => {
    expect(wavResult.media_duration_sec).toBeGreaterThan(12);
    expect(wordErrorRate(SCRIPT, String(wavResult.outputs.txt))).toBeLessThanOrEqual(0.25);
  });

  it.each(['flac', ...PCM_IN_VIDEO.map((container) => `${container} (pcm)`)])(
    'decodes lossless %s to the very samples of the WAV and transcribes it to exactly its segments',
    async (label) => {
      const input = encoded.get(label) as string;
      const [ours, theirs] = await Promise.all([pcmSha256(wav), pcmSha256(input)]);
      expect(theirs).toBe(ours);
      const { result, decoded } = await transcribe(label.replace(/ \(pcm\)$/, '-pcm'), input);
      console.info(
        `${label} (${String(decoded?.audio_codec)} in ${String(decoded?.format_name)}): same samples`,
      );
      expect(String(result.outputs.txt)).toBe(String(wavResult.outputs.txt));
      expect(JSON.parse(String(result.outputs.json)).segments).toEqual(
        JSON.parse(String(wavResult.outputs.json)).segments,
      );
      expect(result.media_duration_sec).toBe(wavResult.media_duration_sec);
    },
    60_000,
  );

  it.each(LOSSY)(
    'decodes lossy %s and transcribes it to nearly the text of the WAV',
    async (container) => {
      const { result, decoded } = await transcribe(container, encoded.get(container) as string);
      const text = String(result.outputs.txt);
      const difference = wordErrorRate(String(wavResult.outputs.txt), text);
      console.info(
        `${container} (${String(decoded?.audio_codec)} in ${String(decoded?.format_name)}): ${(difference * 100).toFixed(1)} % of words differ from the WAV`,
      );
      // The codec changed the samples (see above): identical text is not to be expected.
      expect(difference).toBeLessThanOrEqual(0.1);
      expect(wordErrorRate(SCRIPT, text)).toBeLessThanOrEqual(0.25);
      // Same length as the WAV: the whole audio track was decoded, and only it.
      expect(Math.abs((result.media_duration_sec ?? 0) - (wavResult.media_duration_sec ?? 0))).toBeLessThan(
        0.2,
      );
    },
    60_000,
  );
});
