import { readdir } from 'node:fs/promises';
import { createWorker, OEM, PSM } from 'tesseract.js';
import { AppError } from '../../contract/index.js';
import { assertLanguagesInstalled } from './assert-languages-installed.js';
import { defaultTessdataDir } from './default-tessdata-dir.js';
import type { OcrEngine, RecognizedPage, RecognizeOptions } from './ocr-engine.js';
import { parseTesseractTsv } from './tesseract-tsv.js';

/** The traineddata of one folder: `<lang>.traineddata` files, or else `<lang>.traineddata.gz` ones. */
interface Tessdata {
  languages: string[];
  gzip: boolean;
}

/** tesseract.js reads every language of a worker in one format, so a folder is read in one. */
function readTessdata(files: readonly string[]): Tessdata {
  const named = (suffix: string) =>
    files
      .filter((f) => f.endsWith(suffix))
      .map((f) => f.slice(0, -suffix.length))
      .filter((l) => l !== 'osd');
  const plain = named('.traineddata');
  if (plain.length > 0) return { languages: plain, gzip: false };
  const gzipped = named('.traineddata.gz');
  if (gzipped.length > 0) return { languages: gzipped, gzip: true };
  throw new Error('no traineddata files');
}

const PSM_BY_MODE: Readonly<Record<string, PSM>> = {
  auto: PSM.AUTO,
  '3': PSM.AUTO,
  '4': PSM.SINGLE_COLUMN,
  '6': PSM.SINGLE_BLOCK,
  '11': PSM.SPARSE_TEXT,
};

/**
 * Tesseract compiled to WebAssembly (tesseract.js), for machines without the tesseract CLI.
 * 20–40 % slower than the native program, and without its extras (script detection, word boxes).
 * Reads the traineddata of one local folder (Debian's, npm's, or OCR_TESSDATA_DIR), never the
 * network; `cacheMethod: 'none'` keeps it from writing copies into the working directory.
 */
export class TesseractJsEngine implements OcrEngine {
  readonly name = 'tesseract.js';
  private tessdataPromise: Promise<Tessdata> | undefined;
  readonly langPath: string;

  constructor(langPath?: string) {
    this.langPath = langPath ?? defaultTessdataDir();
  }

  async version(): Promise<string> {
    const { createRequire } = await import('node:module');
    const pkg = createRequire(import.meta.url)('tesseract.js/package.json') as { version: string };
    return pkg.version;
  }

  private tessdata(): Promise<Tessdata> {
    this.tessdataPromise ??= readdir(this.langPath)
      .then(readTessdata)
      .catch((error: unknown) => {
        this.tessdataPromise = undefined;
        throw new AppError('ENGINE_UNAVAILABLE', `No traineddata found in ${this.langPath}.`, {
          cause: error,
        });
      });
    return this.tessdataPromise;
  }

  async installedLanguages(): Promise<string[]> {
    return (await this.tessdata()).languages;
  }

  async assertLanguages(languages: string): Promise<void> {
    assertLanguagesInstalled(languages, await this.installedLanguages());
  }

  async recognize(imagePath: string, options: RecognizeOptions): Promise<RecognizedPage> {
    await this.assertLanguages(options.languages);
    const { gzip } = await this.tessdata();
    if (options.signal?.aborted) throw new AppError('JOB_CANCELLED');
    // One worker per page: pages run in parallel like the CLI's processes, and terminating the
    // worker stops a page at once on cancel or timeout.
    const worker = await createWorker(options.languages.split('+'), OEM.LSTM_ONLY, {
      langPath: this.langPath,
      gzip,
      cacheMethod: 'none',
    });
    if (options.signal?.aborted) {
      await worker.terminate();
      throw new AppError('JOB_CANCELLED');
    }
    let stop: 'cancelled' | 'timeout' | null = null;
    const terminate = (why: 'cancelled' | 'timeout') => {
      stop ??= why;
      void worker.terminate();
    };
    const onAbort = () => terminate('cancelled');
    options.signal?.addEventListener('abort', onAbort, { once: true });
    const timer = options.timeoutMs ? setTimeout(() => terminate('timeout'), options.timeoutMs) : undefined;
    try {
      const psm = options.psm ?? 'auto';
      // The CLI's default is psm 3; tesseract.js's own default is 6.
      await worker.setParameters({ tessedit_pageseg_mode: PSM_BY_MODE[psm] ?? PSM.AUTO });
      const { data } = await worker.recognize(imagePath, {}, { text: true, tsv: true });
      const words = data.tsv ? parseTesseractTsv(data.tsv) : null;
      return {
        text: data.text,
        meanConfidence: words?.meanConfidence ?? (data.confidence > 0 ? data.confidence / 100 : null),
        languagesUsed: options.languages,
        wordCount: words?.wordCount ?? data.text.split(/\s+/).filter(Boolean).length,
        psm: psm === 'auto' ? '3' : psm,
      };
    } catch (error) {
      if (stop === 'cancelled') throw new AppError('JOB_CANCELLED');
      if (stop === 'timeout') throw new AppError('PROCESSING_TIMEOUT', undefined, { cause: error });
      throw new AppError('OCR_ENGINE_FAILED', 'tesseract.js could not read the page.', { cause: error });
    } finally {
      clearTimeout(timer);
      options.signal?.removeEventListener('abort', onAbort);
      if (!stop) await worker.terminate();
    }
  }
}
