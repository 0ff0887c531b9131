import { SCRIPT_TO_LANGUAGES, type TesseractEngine } from '../../engines/ocr/tesseract-engine.js';
import { measureImageQuality } from '../../media/image/measure-image-quality.js';
import type { PageHintProbe } from './page-hints.js';

/** Another language must read the page at least this confidently, and this much better. */
const CLEAR_READING = 0.75;
const CLEAR_GAIN = 0.2;

/** Hints from ffmpeg's view of the pixels and tesseract's orientation and script detection. */
export function tesseractHintProbe(tesseract: TesseractEngine): PageHintProbe {
  return {
    measure: (imagePath, signal) => measureImageQuality(imagePath, { signal }),
    detectScript: (imagePath, signal) => tesseract.detectScript(imagePath, { signal }),
    async betterScript(imagePath, languages, confidence, signal) {
      const requested = languages.split('+');
      const scriptOf = (language: string) =>
        Object.entries(SCRIPT_TO_LANGUAGES).find(([, langs]) => langs.includes(language))?.[0];
      const requestedScripts = new Set(requested.map(scriptOf));
      // One language per script not yet covered, at most three: the probe stays cheap.
      const candidates = new Map<string, string>();
      for (const language of await tesseract.installedLanguages()) {
        const script = scriptOf(language);
        if (script && !requestedScripts.has(script) && !candidates.has(script))
          candidates.set(script, language);
      }
      for (const [script, language] of [...candidates].slice(0, 3)) {
        const reading = await tesseract.recognize(imagePath, { languages: language, psm: '3', signal });
        const better = reading.meanConfidence ?? 0;
        if (better >= CLEAR_READING && better - confidence >= CLEAR_GAIN) return script;
      }
      return null;
    },
  };
}
