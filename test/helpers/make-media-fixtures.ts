import { createHash, randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { access, mkdir, open, readFile, rename, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { runChildProcess } from '../../src/process/run-child-process.js';

/** Recordings made by code for the transcription tests: known words, real codecs, deliberate faults. */

let counter = 0;
function uniqueName(stem: string, extension: string): string {
  counter += 1;
  return `${stem}-${counter}.${extension}`;
}

async function ffmpeg(args: readonly string[]): Promise<void> {
  await runChildProcess('ffmpeg', ['-nostdin', '-v', 'error', '-y', ...args], { timeoutMs: 30_000 });
}

/** `text` spoken by flite's `rms` voice, which pocketsphinx recognises well (espeak-ng it does not). */
export async function makeSpokenWav(dir: string, text: string): Promise<string> {
  const out = path.join(dir, uniqueName('speech', 'wav'));
  await runChildProcess('flite', ['-voice', 'rms', '-t', text, '-o', out], { timeoutMs: 30_000 });
  return out;
}

/** The speech said `times` times with `pauseSec` of silence after each, long enough to end an utterance. */
export async function makeRepeatedSpeechWav(
  dir: string,
  text: string,
  options: { times: number; pauseSec: number },
): Promise<string> {
  const once = await makeSpokenWav(dir, text);
  const padded = path.join(dir, uniqueName('padded', 'wav'));
  await ffmpeg(['-i', once, '-af', `apad=pad_dur=${options.pauseSec}`, '-c:a', 'pcm_s16le', padded]);
  const out = path.join(dir, uniqueName('repeated', 'wav'));
  await ffmpeg(['-stream_loop', String(options.times - 1), '-i', padded, '-c:a', 'pcm_s16le', out]);
  return out;
}

export async function makeSpokenMp3(dir: string, text: string): Promise<string> {
  const out = path.join(dir, uniqueName('speech', 'mp3'));
  await ffmpeg(['-i', await makeSpokenWav(dir, text), '-c:a', 'libmp3lame', '-b:a', '64k', out]);
  return out;
}

export async function makeSpokenM4a(dir: string, text: string): Promise<string> {
  const out = path.join(dir, uniqueName('speech', 'm4a'));
  await ffmpeg(['-i', await makeSpokenWav(dir, text), '-c:a', 'aac', '-b:a', '64k', out]);
  return out;
}

/** H.264 video of a plain colour with the speech as its AAC audio track. */
export async function makeSpokenMp4Video(dir: string, text: string): Promise<string> {
  const out = path.join(dir, uniqueName('speech', 'mp4'));
  await ffmpeg([
    '-f',
    'lavfi',
    '-i',
    'color=c=navy:s=160x120:r=25',
    '-i',
    await makeSpokenWav(dir, text),
    // Plain -shortest lets the video run ~0.4 s past the audio (muxer buffering); these make it stop with it.
    '-shortest',
    '-fflags',
    '+shortest',
    '-max_interleave_delta',
    '100M',
    '-c:v',
    'libx264',
    '-preset',
    'ultrafast',
    '-pix_fmt',
    'yuv420p',
    '-c:a',
    'aac',
    '-b:a',
    '64k',
    out,
  ]);
  return out;
}

/** Two seconds of H.264 video and no audio stream at all. */
export async function makeSilentVideoWithoutAudio(dir: string): Promise<string> {
  const out = path.join(dir, uniqueName('no-audio', 'mp4'));
  await ffmpeg([
    '-f',
    'lavfi',
    '-i',
    'color=c=black:s=160x120:r=10:d=2',
    '-c:v',
    'libx264',
    '-preset',
    'ultrafast',
    '-pix_fmt',
    'yuv420p',
    '-an',
    out,
  ]);
  return out;
}

/** A RIFF/WAVE header with no `fmt ` chunk, then garbage: looks like a WAV, decodes as nothing. */
export async function makeCorruptAudio(dir: string): Promise<string> {
  const out = path.join(dir, uniqueName('corrupt', 'wav'));
  const garbage = Buffer.alloc(4096, 0xa7);
  const header = Buffer.alloc(12);
  header.write('RIFF', 0, 'latin1');
  header.writeUInt32LE(4 + garbage.length, 4);
  header.write('WAVE', 8, 'latin1');
  await writeFile(out, Buffer.concat([header, garbage]));
  return out;
}

/** The first `keepShare` of an MP3 of the speech: ffprobe still reports the full duration. */
export async function makeTruncatedMp3(dir: string, text: string, keepShare: number): Promise<string> {
  const full = await makeSpokenMp3(dir, text);
  const out = path.join(dir, uniqueName('truncated', 'mp3'));
  const file = await open(full, 'r');
  try {
    const { size } = await file.stat();
    const kept = Buffer.alloc(Math.floor(size * keepShare));
    await file.read(kept, 0, kept.length, 0);
    await writeFile(out, kept);
  } finally {
    await file.close();
  }
  return out;
}

/**
 * An MP3 of the speech whose Xing/Info header claims only `claimedShare` of its frames: ffprobe
 * believes the header, ffmpeg decodes every frame. (A WAV cannot hide its length this way: ffmpeg
 * stops at the RIFF data size, so a short header makes a short WAV for every reader.)
 */
export async function makeMp3HidingItsLength(
  dir: string,
  text: string,
  claimedShare: number,
): Promise<string> {
  const bytes = await readFile(await makeSpokenMp3(dir, text));
  const tag = [bytes.indexOf('Xing', 0, 'latin1'), bytes.indexOf('Info', 0, 'latin1')].find((at) => at >= 0);
  // The tag, 4 bytes of flags (bit 0: frame count present), then the frame count, big-endian.
  if (tag === undefined || (bytes.readUInt32BE(tag + 4) & 1) === 0) {
    throw new Error('libmp3lame wrote no Xing/Info frame count');
  }
  bytes.writeUInt32BE(Math.max(1, Math.floor(bytes.readUInt32BE(tag + 8) * claimedShare)), tag + 8);
  const out = path.join(dir, uniqueName('hiding-length', 'mp3'));
  await writeFile(out, bytes);
  return out;
}

/** The ~3-minute talk of test/fixtures/river-talk.txt: its known script, one sentence a line. */
export const RIVER_TALK_SCRIPT = readFileSync(new URL('../fixtures/river-talk.txt', import.meta.url), 'utf8');

const FIXTURE_CACHE = path.join(os.tmpdir(), 'dt-test-fixture-cache');

/**
 * Makes a fixture once per machine (flite takes seconds for a long text): cached under the tmp
 * dir by a hash of what it is made from, written to a temporary name and renamed, so test files
 * running in parallel never read a half-written file.
 */
async function cached(key: string, extension: string, make: (out: string) => Promise<void>): Promise<string> {
  await mkdir(FIXTURE_CACHE, { recursive: true });
  const name = `${createHash('sha256').update(key).digest('hex').slice(0, 16)}.${extension}`;
  const target = path.join(FIXTURE_CACHE, name);
  if (
    await access(target).then(
      () => true,
      () => false,
    )
  )
    return target;
  const temporary = path.join(FIXTURE_CACHE, `${process.pid}-${Date.now()}-${name}`);
  await make(temporary);
  await rename(temporary, target);
  return target;
}

/** The river talk spoken by flite's `rms` voice, as a WAV; made once per machine. */
export async function makeRiverTalkWav(): Promise<string> {
  return cached(`flite-rms:${RIVER_TALK_SCRIPT}`, 'wav', async (out) => {
    const script = `${out}.txt`;
    await writeFile(script, RIVER_TALK_SCRIPT);
    await runChildProcess('flite', ['-voice', 'rms', '-f', script, '-o', out], { timeoutMs: 60_000 });
    await rm(script, { force: true });
  });
}

export type SpeechContainer = 'mp3' | 'm4a' | 'mp4' | 'webm' | 'ogg' | 'flac' | 'mkv' | 'mov' | 'avi' | 'wma';

const CONTAINER_ARGS: Record<SpeechContainer, string[]> = {
  mp3: ['-c:a', 'libmp3lame', '-b:a', '128k'],
  m4a: ['-c:a', 'aac', '-b:a', '128k'],
  flac: ['-c:a', 'flac'],
  ogg: ['-c:a', 'libopus', '-b:a', '64k'],
  wma: ['-c:a', 'wmav2', '-b:a', '128k'],
  mp4: ['-c:v', 'libx264', '-preset', 'ultrafast', '-pix_fmt', 'yuv420p', '-c:a', 'aac', '-b:a', '128k'],
  mov: ['-c:v', 'libx264', '-preset', 'ultrafast', '-pix_fmt', 'yuv420p', '-c:a', 'aac', '-b:a', '128k'],
  mkv: ['-c:v', 'libx264', '-preset', 'ultrafast', '-pix_fmt', 'yuv420p', '-c:a', 'libopus', '-b:a', '64k'],
  webm: [
    '-c:v',
    'libvpx',
    '-deadline',
    'realtime',
    '-cpu-used',
    '8',
    '-b:v',
    '50k',
    '-c:a',
    'libopus',
    '-b:a',
    '64k',
  ],
  avi: ['-c:v', 'mpeg4', '-c:a', 'libmp3lame', '-b:a', '128k'],
};
const VIDEO_CONTAINERS = new Set<SpeechContainer>(['mp4', 'mov', 'mkv', 'webm', 'avi']);

/** Video containers that can carry the WAV's own 16-bit PCM, unchanged, as their sound track. */
export type PcmVideoContainer = 'mov' | 'mkv' | 'avi';

/**
 * The same speech in another container; video containers get a tiny plain-colour picture. Cached.
 * `audio: 'pcm'` keeps the WAV's samples as they are (pcm_s16le) instead of the container's usual lossy codec.
 */
export async function encodeSpeech(
  wav: string,
  container: SpeechContainer,
  audio: 'usual' | 'pcm' = 'usual',
): Promise<string> {
  const args =
    audio === 'pcm'
      ? [
          ...CONTAINER_ARGS[container].slice(0, CONTAINER_ARGS[container].indexOf('-c:a')),
          '-c:a',
          'pcm_s16le',
        ]
      : CONTAINER_ARGS[container];
  return cached(`${wav}:${container}${audio === 'pcm' ? ':pcm' : ''}`, container, async (out) => {
    const video = VIDEO_CONTAINERS.has(container)
      ? [
          '-f',
          'lavfi',
          '-i',
          'color=c=navy:s=64x48:r=5',
          '-shortest',
          '-fflags',
          '+shortest',
          '-max_interleave_delta',
          '100M',
        ]
      : [];
    await runChildProcess(
      'ffmpeg',
      [
        '-nostdin',
        '-v',
        'error',
        '-y',
        ...video.slice(0, 4),
        '-i',
        wav,
        ...video.slice(4),
        ...args,
        '-f',
        container === 'm4a'
          ? 'ipod'
          : container === 'wma'
            ? 'asf'
            : container === 'mkv'
              ? 'matroska'
              : container,
        out,
      ],
      { timeoutMs: 120_000 },
    );
  });
}

/** `times` copies of a WAV back to back (a long recording for memory and resume tests). */
export async function loopWav(dir: string, wav: string, times: number): Promise<string> {
  const out = path.join(dir, uniqueName('looped', 'wav'));
  await ffmpeg(['-stream_loop', String(times - 1), '-i', wav, '-c:a', 'pcm_s16le', out]);
  return out;
}

/** Random bytes: not a recording of any kind. */
export async function makeRandomBytes(dir: string, size = 64 * 1024): Promise<string> {
  const out = path.join(dir, uniqueName('random', 'bin'));
  await writeFile(out, randomBytes(size));
  return out;
}

/**
 * `text` spoken, then silence up to `seconds`, as 48 kHz stereo 16-bit PCM: about 188 KiB per
 * second, so a minute of it is a large file (resumable upload tests) that transcribes quickly.
 */
export async function makeLongQuietWav(dir: string, text: string, seconds: number): Promise<string> {
  const out = path.join(dir, uniqueName('long-quiet', 'wav'));
  await ffmpeg([
    '-i',
    await makeSpokenWav(dir, text),
    '-af',
    `apad=whole_dur=${seconds}`,
    '-ar',
    '48000',
    '-ac',
    '2',
    '-c:a',
    'pcm_s16le',
    out,
  ]);
  return out;
}
