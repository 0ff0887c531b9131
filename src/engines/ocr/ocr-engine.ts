export interface RecognizeOptions {
  /** Tesseract language list, e.g. `hin+eng`. */
  languages: string;
  signal?: AbortSignal;
  timeoutMs?: number;
}

export interface RecognizedPage {
  text: string;
  /** Mean word confidence, 0–1, or null when the engine found no words. */
  meanConfidence: number | null;
  /** The languages the text was finally read with (after script detection). */
  languagesUsed: string;
}

/** An OCR engine reads one image file. It knows nothing of jobs, Redis or HTTP. */
export interface OcrEngine {
  readonly name: string;
  version(): Promise<string>;
  installedLanguages(): Promise<string[]>;
  recognize(imagePath: string, options: RecognizeOptions): Promise<RecognizedPage>;
}
