import { randomUUID } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { rm, stat } from 'node:fs/promises';
import { pipeline } from 'node:stream/promises';
import { AppError } from '../../contract/index.js';
import { readWavDataOffset } from '../../media/ffmpeg/read-wav-data-offset.js';
import { pcmWavHeader } from '../../media/ffmpeg/write-wav-slice.js';
import { runChildProcess } from '../../process/run-child-process.js';
import { toolFailure } from '../../process/tool-failure.js';
import { PocketsphinxOutputParser } from './pocketsphinx-output-parser.js';
import type { Segment, SpeechEngine, TranscribeOptions } from './speech-engine.js';

/** The Debian package's upstream version, reported when dpkg cannot tell us more. */
const FALLBACK_VERSION = '0.8';
// biome-ignore lint/suspicious/noTemplateCurlyInString: dpkg-query's own field syntax, not a JS template.
const DPKG_VERSION_FORMAT = '${Version}';

/**
 * Tighter search pruning than the defaults: on the 3-minute test talk it cuts the real-time factor
 * from ~0.4 to ~0.26 on this machine with word error rate unchanged (7.6 %).
 */
const PRUNING = ['-maxhmmpf', '3000', '-maxwpf', '10', '-pl_window', '5'];

/**
 * The repetition guard's re-run (`strict`): word insertion probability 0.1 instead of 0.65 and
 * phone insertion probability 0.5 instead of 1, so every extra word costs the search more and a
 * loop of short words stops paying off. Same words as the defaults on the first minute of the
 * test talk; only used for a chunk already caught repeating itself.
 */
const STRICT_PENALTIES = ['-wip', '0.1', '-pip', '0.5'];

/** The command line of one chunk: its file, word times, our pruning and, for a strict re-run, the penalties. */
export function pocketsphinxArguments(infile: string, strict: boolean): string[] {
  return [
    '-infile',
    infile,
    '-time',
    'yes',
    '-logfn',
    '/dev/null',
    ...PRUNING,
    ...(strict ? STRICT_PENALTIES : []),
  ];
}

/**
 * pocketsphinx_continuous 0.8 reports word times shifted by tens of seconds when the audio starts
 * in the middle of speech (as a chunk with overlap does); half a second of silence in front fixes
 * its clock, and is subtracted again from every time.
 */
const LEAD_IN_SEC = 0.5;
const LEAD_IN = Buffer.alloc(16_000 * 2 * LEAD_IN_SEC);

/**
 * A copy of the WAV with the lead-in silence in front, next to it (streamed, never read whole).
 * A file, not stdin: pocketsphinx opens `-infile` by name, and Node's stdio is a socket that
 * `/dev/stdin` cannot reopen.
 */
async function writeWithLeadIn(wavPath: string, target: string): Promise<void> {
  const offset = await readWavDataOffset(wavPath);
  if (offset === null) {
    throw new AppError('TRANSCRIPTION_ENGINE_FAILED', 'The audio given to pocketsphinx is not a WAV file.');
  }
  const { size } = await stat(wavPath);
  const out = createWriteStream(target, { flags: 'wx' });
  out.write(pcmWavHeader(LEAD_IN.length + size - offset));
  out.write(LEAD_IN);
  await pipeline(createReadStream(wavPath, { start: offset }), out);
}

function shift(segment: Segment): Segment {
  const back = (t: number) => Math.max(0, Math.round((t - LEAD_IN_SEC) * 1000) / 1000);
  return {
    ...segment,
    start: back(segment.start),
    end: back(segment.end),
    ...(segment.words
      ? { words: segment.words.map((w) => ({ ...w, start: back(w.start), end: back(w.end) })) }
      : {}),
  };
}

export interface PocketsphinxEngineOptions {
  /** Defaults to `pocketsphinx_continuous` on the PATH. */
  command?: string;
}

/**
 * Offline speech recognition with CMU PocketSphinx 0.8 and its US-English model: no account,
 * no network, ~0.2× real time on one core. Knows only English.
 */
export class PocketsphinxEngine implements SpeechEngine {
  readonly name = 'pocketsphinx';
  readonly languages: readonly string[] = ['en'];
  private readonly command: string;
  private versionPromise: Promise<string> | undefined;

  constructor(options: PocketsphinxEngineOptions = {}) {
    this.command = options.command ?? 'pocketsphinx_continuous';
  }

  version(): Promise<string> {
    this.versionPromise ??= runChildProcess('dpkg-query', ['-W', '-f', DPKG_VERSION_FORMAT, 'pocketsphinx'], {
      timeoutMs: 10_000,
    }).then(
      ({ stdout }) => stdout.toString('utf8').trim() || FALLBACK_VERSION,
      // Not a Debian system, or installed from source: the version is still useful without the revision.
      () => FALLBACK_VERSION,
    );
    return this.versionPromise;
  }

  async transcribe(wavPath: string, options: TranscribeOptions): Promise<Segment[]> {
    const parser = new PocketsphinxOutputParser();
    const segments: Segment[] = [];
    const emit = (found: Segment | null) => {
      if (!found) return;
      const segment = shift(found);
      segments.push(segment);
      options.onSegment?.(segment);
    };
    if (options.signal.aborted) throw new AppError('JOB_CANCELLED');
    const padded = `${wavPath}.lead-in-${process.pid}-${randomUUID()}.wav`;
    try {
      await writeWithLeadIn(wavPath, padded).catch((error: unknown) => {
        if ((error as NodeJS.ErrnoException).code === 'ENOENT') {
          throw new AppError('TRANSCRIPTION_ENGINE_FAILED', 'The audio file is missing.', { cause: error });
        }
        throw error;
      });
      await runChildProcess(this.command, pocketsphinxArguments(padded, options.strict === true), {
        signal: options.signal,
        timeoutMs: options.timeoutMs,
        onStdoutLine: (line) => emit(parser.push(line)),
      });
    } catch (error) {
      throw toolFailure(error, 'TRANSCRIPTION_ENGINE_FAILED');
    } finally {
      await rm(padded, { force: true });
    }
    emit(parser.finish());
    return segments;
  }
}
