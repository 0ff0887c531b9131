/** Two-letter codes (ISO 639-1) of the three-letter job languages speech engines are given. */
const ISO_639_1: Readonly<Record<string, string>> = { eng: 'en', hin: 'hi', san: 'sa', mar: 'mr', guj: 'gu' };

/** The job language as a two-letter code; `undefined` for `auto` (the engine detects it). */
export function twoLetterLanguage(language: string): string | undefined {
  return language === 'auto' ? undefined : (ISO_639_1[language] ?? language);
}
