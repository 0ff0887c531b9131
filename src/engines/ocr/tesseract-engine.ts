import { randomUUID } from 'node:crypto';
import { readFile, rm } from 'node:fs/promises';
import path from 'node:path';
import { AppError } from '../../contract/index.js';
import { runChildProcess } from '../../process/run-child-process.js';
import { toolFailure } from '../../process/tool-failure.js';
import { assertLanguagesInstalled } from './assert-languages-installed.js';
import type { OcrEngine, RecognizedPage, RecognizeOptions } from './ocr-engine.js';
import { parseTesseractTsv } from './tesseract-tsv.js';

// OpenMP oversubscription makes tesseract ~5× slower on 2 cores: always one thread per process;
// parallelism comes from running several processes.
const TESSERACT_ENV = { OMP_THREAD_LIMIT: '1' };

/** Share of letters above which a page counts as written in one script. */
const DOMINANT_SCRIPT_SHARE = 0.85;
const SCRIPT_LANGUAGES: Record<'devanagari' | 'latin', string> = { devanagari: 'hin', latin: 'eng' };

/** A psm 3 reading shorter than this (letters) or less confident than this is read again in psm 6. */
const WEAK_PAGE_MIN_LETTERS = 20;
const WEAK_PAGE_MIN_CONFIDENCE = 0.6;

/** Which script most letters of a text are in, when one clearly dominates. */
export function dominantScript(text: string): 'devanagari' | 'latin' | null {
  const devanagari = text.match(/\p{Script=Devanagari}/gu)?.length ?? 0;
  const latin = text.match(/\p{Script=Latin}/gu)?.length ?? 0;
  const total = devanagari + latin;
  if (total === 0) return null;
  if (devanagari / total >= DOMINANT_SCRIPT_SHARE) return 'devanagari';
  if (latin / total >= DOMINANT_SCRIPT_SHARE) return 'latin';
  return null;
}

function letterCount(text: string): number {
  return text.match(/[\p{L}\p{M}\p{N}]/gu)?.length ?? 0;
}

/** A reading is weak when it is suspiciously short or its mean confidence low. */
export function isWeakReading(page: Pick<RecognizedPage, 'text' | 'meanConfidence'>): boolean {
  return (
    letterCount(page.text) < WEAK_PAGE_MIN_LETTERS || (page.meanConfidence ?? 0) < WEAK_PAGE_MIN_CONFIDENCE
  );
}

/** Of two readings of one page, the one with confident words wins; noise read as text loses on confidence. */
function betterReading(a: RecognizedPage, b: RecognizedPage): RecognizedPage {
  const score = (p: RecognizedPage) => (p.meanConfidence ?? 0) * Math.sqrt(p.wordCount);
  return score(b) > score(a) ? b : a;
}

/** The tesseract 5 CLI. */
export class TesseractEngine implements OcrEngine {
  readonly name = 'tesseract';
  private versionPromise: Promise<string> | undefined;
  private languagesPromise: Promise<string[]> | undefined;

  constructor(private readonly command = 'tesseract') {}

  version(): Promise<string> {
    this.versionPromise ??= runChildProcess(this.command, ['--version'], {
      timeoutMs: 10_000,
      env: TESSERACT_ENV,
    })
      .then(
        ({ stdout, stderr }) =>
          /tesseract\s+v?([\d.]+)/i.exec(stdout.toString('utf8') + stderr)?.[1] ?? 'unknown',
      )
      .catch((error: unknown) => {
        this.versionPromise = undefined;
        throw toolFailure(error, 'OCR_ENGINE_FAILED');
      });
    return this.versionPromise;
  }

  installedLanguages(): Promise<string[]> {
    this.languagesPromise ??= runChildProcess(this.command, ['--list-langs'], {
      timeoutMs: 10_000,
      env: TESSERACT_ENV,
    })
      .then(({ stdout }) =>
        stdout
          .toString('utf8')
          .split('\n')
          .slice(1)
          .map((l) => l.trim())
          .filter((l) => l && l !== 'osd'),
      )
      .catch((error: unknown) => {
        this.languagesPromise = undefined;
        throw toolFailure(error, 'OCR_ENGINE_FAILED');
      });
    return this.languagesPromise;
  }

  /** Fails fast, before any page is read, when a requested language is not installed. */
  async assertLanguages(languages: string): Promise<void> {
    assertLanguagesInstalled(languages, await this.installedLanguages());
  }

  async recognize(imagePath: string, options: RecognizeOptions): Promise<RecognizedPage> {
    await this.assertLanguages(options.languages);
    const psmMode = options.psm ?? 'auto';
    const firstPsm = psmMode === 'auto' ? '3' : psmMode;
    let kept = await this.read(imagePath, options.languages, firstPsm, options);
    // Mixed language models read a one-script page worse (Hindi: CER ~2.3 % with hin+eng against
    // ~0.6 % with hin alone), so a page that is clearly in one script is read again with that model.
    const script = dominantScript(kept.text);
    const requested = options.languages.split('+');
    const mono = script ? SCRIPT_LANGUAGES[script] : undefined;
    if (mono && requested.length >= 2 && requested.includes(mono)) {
      kept = await this.replace(kept, () => this.read(imagePath, mono, firstPsm, options));
    }
    // psm 3 can drop a paragraph of a slightly rotated scan where psm 6 keeps it.
    if (psmMode === 'auto' && isWeakReading(kept) && options.extraWork?.allows?.('ocr_psm_retry') !== false) {
      await options.extraWork?.spend('ocr_psm_retry');
      const retry = await this.read(imagePath, kept.languagesUsed, '6', options);
      const better = betterReading(kept, retry);
      await discardArtefacts(better === kept ? retry : kept);
      kept = better;
    }
    return kept;
  }

  /** The script tesseract's orientation and script detection sees on a page, or null when unsure. */
  async detectScript(
    imagePath: string,
    options: { signal?: AbortSignal; timeoutMs?: number } = {},
  ): Promise<{ script: string; confidence: number } | null> {
    try {
      const { stdout } = await runChildProcess(this.command, [imagePath, 'stdout', '--psm', '0'], {
        env: TESSERACT_ENV,
        ...(options.signal ? { signal: options.signal } : {}),
        timeoutMs: options.timeoutMs ?? 60_000,
      });
      const out = stdout.toString('utf8');
      const script = /^Script:\s*(\S+)/m.exec(out)?.[1];
      const confidence = Number(/^Script confidence:\s*([\d.]+)/m.exec(out)?.[1] ?? 0);
      return script ? { script, confidence } : null;
    } catch (error) {
      // OSD refuses pages with too few characters: no opinion, not a failure.
      const mapped = toolFailure(error, 'OCR_ENGINE_FAILED');
      if (mapped instanceof AppError && mapped.code === 'OCR_ENGINE_FAILED') return null;
      throw mapped;
    }
  }

  private async replace(
    previous: RecognizedPage,
    next: () => Promise<RecognizedPage>,
  ): Promise<RecognizedPage> {
    const page = await next();
    await discardArtefacts(previous);
    return page;
  }

  private async read(
    imagePath: string,
    languages: string,
    psm: string,
    options: RecognizeOptions,
  ): Promise<RecognizedPage> {
    const args = [imagePath];
    const artefacts = options.artefacts;
    const base = artefacts ? path.join(artefacts.dir, `tess-${randomUUID()}`) : undefined;
    args.push(base ?? 'stdout', '-l', languages, '--psm', psm);
    if (options.dpi) args.push('--dpi', String(options.dpi));
    if (artefacts?.searchablePdf === 'text_only') args.push('-c', 'textonly_pdf=1');
    args.push('tsv');
    if (artefacts?.searchablePdf) args.push('pdf');
    if (artefacts?.hocr) args.push('hocr');
    try {
      const { stdout } = await runChildProcess(this.command, args, {
        env: TESSERACT_ENV,
        ...(options.signal ? { signal: options.signal } : {}),
        ...(options.timeoutMs ? { timeoutMs: options.timeoutMs } : {}),
      });
      const tsv = base ? await readFile(`${base}.tsv`, 'utf8') : stdout.toString('utf8');
      if (base) await rm(`${base}.tsv`, { force: true });
      return {
        ...parseTesseractTsv(tsv),
        languagesUsed: languages,
        psm,
        ...(base && artefacts?.searchablePdf ? { pdfPath: `${base}.pdf` } : {}),
        ...(base && artefacts?.hocr ? { hocrPath: `${base}.hocr` } : {}),
      };
    } catch (error) {
      throw toolFailure(error, 'OCR_ENGINE_FAILED');
    }
  }
}

async function discardArtefacts(page: RecognizedPage): Promise<void> {
  if (page.pdfPath) await rm(page.pdfPath, { force: true });
  if (page.hocrPath) await rm(page.hocrPath, { force: true });
}

/** Tesseract language codes OSD script names map to (for "wrong language suspected" hints). */
export const SCRIPT_TO_LANGUAGES: Readonly<Record<string, readonly string[]>> = {
  Devanagari: ['hin', 'mar', 'san', 'nep'],
  Latin: ['eng', 'fra', 'deu', 'spa', 'ita', 'por', 'nld'],
  Bengali: ['ben', 'asm'],
  Gujarati: ['guj'],
  Gurmukhi: ['pan'],
  Arabic: ['ara', 'urd', 'fas'],
  Tamil: ['tam'],
  Telugu: ['tel'],
  Kannada: ['kan'],
  Malayalam: ['mal'],
  Cyrillic: ['rus', 'ukr', 'bul', 'srp'],
  Han: ['chi_sim', 'chi_tra', 'jpn'],
};
