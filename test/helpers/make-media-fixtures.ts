import { open, writeFile } from 'node:fs/promises';
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
