import type { OcrPsmMode } from '../../contract/index.js';
import type { ExtraWorkBudget } from '../extra-work-budget.js';

export interface RecognizeOptions {
  /** Tesseract language list, e.g. `hin+eng`. */
  languages: string;
  signal?: AbortSignal;
  timeoutMs?: number;
  /** Tesseract page segmentation; `auto` (default) reads in psm 3 and retries a weak page in psm 6. */
  psm?: OcrPsmMode;
  /** Resolution of the image when the caller knows it (rendered PDF pages). */
  dpi?: number;
  /** Content subtype of the job: cloud engines pick their prompt by it. */
  contentSubtype?: string;
  /** The job's budget of extra engine calls: a page read again (psm 6, an empty answer) asks it first. */
  extraWork?: ExtraWorkBudget;
  /** Per-page files an engine able to make them writes into `dir`. */
  artefacts?: {
    dir: string;
    /** `text_only`: an invisible text layer to lay over the original page; `with_image`: image and text. */
    searchablePdf?: 'text_only' | 'with_image';
    hocr?: boolean;
  };
}

export interface RecognizedPage {
  text: string;
  /** Mean word confidence, 0–1, or null when the engine found no words or gives no confidences. */
  meanConfidence: number | null;
  /** The languages the text was finally read with (after script detection). */
  languagesUsed: string;
  /** Words the engine found. */
  wordCount: number;
  /** Tesseract page segmentation mode the kept reading used. */
  psm?: string;
  /** Searchable one-page PDF, when asked for and the engine makes one. */
  pdfPath?: string;
  /** hOCR of the page, when asked for and the engine makes one. */
  hocrPath?: string;
  /** Problems the engine noticed (truncated answer, empty answer), in words for people. */
  warnings?: string[];
}

/** An OCR engine reads one image file. It knows nothing of jobs, Redis or HTTP. */
export interface OcrEngine {
  readonly name: string;
  version(): Promise<string>;
  installedLanguages(): Promise<string[]>;
  /** Fails with OCR_LANGUAGE_UNAVAILABLE, before any page is read, when a language is missing. */
  assertLanguages(languages: string): Promise<void>;
  recognize(imagePath: string, options: RecognizeOptions): Promise<RecognizedPage>;
  /**
   * Cloud engines only: several page images in one request, one reading per image, in order.
   * `artefacts` are not made here (the pipeline builds a page-level text layer instead).
   */
  recognizeBatch?(imagePaths: readonly string[], options: RecognizeOptions): Promise<RecognizedPage[]>;
}
