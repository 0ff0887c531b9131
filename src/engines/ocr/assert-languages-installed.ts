import { AppError } from '../../contract/index.js';

/** Fails with OCR_LANGUAGE_UNAVAILABLE, naming what is installed, when a requested language is missing. */
export function assertLanguagesInstalled(languages: string, installed: readonly string[]): void {
  const missing = languages.split('+').filter((l) => !installed.includes(l));
  if (missing.length > 0) {
    throw new AppError(
      'OCR_LANGUAGE_UNAVAILABLE',
      `OCR language ${missing.join(', ')} is not installed; installed: ${installed.join(', ')}.`,
      { details: { missing, installed } },
    );
  }
}
