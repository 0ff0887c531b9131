import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { setTimeout as sleep } from 'node:timers/promises';
import { AppError } from '../../contract/index.js';
import type { OcrEngine, RecognizedPage, RecognizeOptions } from './ocr-engine.js';

/** How often each page read fails, and how long it takes. */
export interface FaultSpec {
  /** Share of page reads failing with ENGINE_UNAVAILABLE (retried by the worker). */
  transient: number;
  /** Share of page reads failing with INPUT_UNREADABLE (no retry: FAILED, dead-lettered). */
  permanent: number;
  pageMs: number;
}

/**
 * TEST ONLY (`OCR_TEST_FAULT_ENGINE`, refused with NODE_ENV=production): an OCR engine that reads
 * nothing. Each page's "text" is a digest of its image, so the same input always gives the same
 * output, and reads fail at random as configured: the fault-injection and soak tests run real
 * workers, queues and pipelines with it, fast and without a model.
 */
export class FaultInjectionOcrEngine implements OcrEngine {
  readonly name = 'test-fault';

  constructor(
    private readonly spec: FaultSpec,
    private readonly random: () => number = Math.random,
  ) {}

  async version(): Promise<string> {
    return '1';
  }

  async installedLanguages(): Promise<string[]> {
    return [];
  }

  async assertLanguages(): Promise<void> {}

  async recognize(imagePath: string, options: RecognizeOptions): Promise<RecognizedPage> {
    if (this.spec.pageMs > 0) {
      await sleep(this.spec.pageMs, undefined, options.signal ? { signal: options.signal } : {}).catch(() => {
        throw new AppError('JOB_CANCELLED');
      });
    }
    const draw = this.random();
    if (draw < this.spec.permanent) throw new AppError('INPUT_UNREADABLE', 'Injected permanent fault.');
    if (draw < this.spec.permanent + this.spec.transient) {
      throw new AppError('ENGINE_UNAVAILABLE', 'Injected transient fault.');
    }
    const digest = createHash('sha256')
      .update(await readFile(imagePath))
      .digest('hex')
      .slice(0, 16);
    const text = `page ${digest}`;
    return { text, meanConfidence: 0.99, languagesUsed: options.languages, wordCount: 2 };
  }
}
