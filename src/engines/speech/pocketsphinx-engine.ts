import { runChildProcess } from '../../process/run-child-process.js';
import { toolFailure } from '../../process/tool-failure.js';
import { PocketsphinxOutputParser } from './pocketsphinx-output-parser.js';
import type { Segment, SpeechEngine, TranscribeOptions } from './speech-engine.js';

/** The Debian package's upstream version, reported when dpkg cannot tell us more. */
const FALLBACK_VERSION = '0.8';
// biome-ignore lint/suspicious/noTemplateCurlyInString: dpkg-query's own field syntax, not a JS template.
const DPKG_VERSION_FORMAT = '${Version}';

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
    const emit = (segment: Segment | null) => {
      if (!segment) return;
      segments.push(segment);
      options.onSegment?.(segment);
    };
    try {
      await runChildProcess(this.command, ['-infile', wavPath, '-time', 'yes', '-logfn', '/dev/null'], {
        signal: options.signal,
        timeoutMs: options.timeoutMs,
        onStdoutLine: (line) => emit(parser.push(line)),
      });
    } catch (error) {
      throw toolFailure(error, 'TRANSCRIPTION_ENGINE_FAILED');
    }
    emit(parser.finish());
    return segments;
  }
}
